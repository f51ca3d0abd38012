/**
 * Logging helpers every layer may use: rate limiting of lines a guest or a front-end can cause.
 *
 * @module
 */

export { type LimitedLevel, RateLimitedLog, type RateLimitOptions } from "./rate_limited_log.ts";
