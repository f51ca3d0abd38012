/**
 * Checks the size rules of docs/architecture.md: no file over 400 lines, no function over 50 lines (its body,
 * from the opening to the closing brace). Test bodies (`Deno.test(…, () => {…})` and `t.step`) may be longer: a
 * scenario reads better in one piece. Run by `deno task lint`; exits 1 and names each offender.
 *
 * Usage: deno run --allow-read --allow-env scripts/check_size.ts
 *
 * @module
 */

import ts from "typescript";

/** Most lines in a file. */
export const MAX_FILE_LINES = 400;
/** Most lines in a function body. */
export const MAX_FUNCTION_LINES = 50;

const ROOTS = ["mod.ts", "ffi", "src", "scripts", "tests"];
const SKIP_DIRS = new Set(["vectors", "node_modules"]);

function isTestBody(node: ts.Node): boolean {
  const call = node.parent;
  if (!ts.isCallExpression(call)) return false;
  return /^(Deno\.test|t\.step|\w+\.step)$/.test(call.expression.getText());
}

function functionName(node: ts.FunctionLikeDeclaration): string {
  if (node.name !== undefined) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const parent = node.parent;
  if (
    ts.isVariableDeclaration(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertyAssignment(parent)
  ) {
    return parent.name.getText();
  }
  return "(anonymous)";
}

/**
 * The size problems of one source.
 *
 * @param path The file's path (for messages).
 * @param text Its source.
 * @returns One line per problem.
 */
export function sizeProblems(path: string, text: string): string[] {
  const problems: string[] = [];
  const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  if (lines > MAX_FILE_LINES) problems.push(`${path}: ${lines} lines (at most ${MAX_FILE_LINES})`);
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const lineOf = (pos: number): number => file.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body !== undefined && !isTestBody(node)) {
      const body = node.body as ts.Node;
      const length = lineOf(body.getEnd()) - lineOf(body.getStart()) + 1;
      if (length > MAX_FUNCTION_LINES) {
        const name = functionName(node as ts.FunctionLikeDeclaration);
        problems.push(
          `${path}:${
            lineOf(body.getStart())
          }: function ${name} is ${length} lines (at most ${MAX_FUNCTION_LINES})`,
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return problems;
}

function* sourceFiles(path: string): Generator<string> {
  if (path.endsWith(".ts")) {
    yield path;
    return;
  }
  for (const entry of Deno.readDirSync(path)) {
    if (entry.isDirectory && !SKIP_DIRS.has(entry.name)) yield* sourceFiles(`${path}/${entry.name}`);
    else if (entry.isFile && entry.name.endsWith(".ts")) yield `${path}/${entry.name}`;
  }
}

if (import.meta.main) {
  const files = ROOTS.flatMap((r) => [...sourceFiles(r)]);
  const problems = files.flatMap((f) => sizeProblems(f, Deno.readTextFileSync(f)));
  for (const p of problems) console.error(p);
  console.log(`check_size: ${files.length} files, ${problems.length} over the size rules`);
  if (problems.length > 0) Deno.exit(1);
}
