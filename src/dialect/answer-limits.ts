/**
 * How large an answer each kind of request can legitimately get. The network cuts anything
 * bigger off as `BODY_TOO_LARGE` (issue 11.8: an endless body once grew a worker to 6 GB), so a
 * hostile or broken server costs a bounded amount of memory per request in flight.
 */

/** A JSON answer (check, token check, progress, version report): the documents' largest is < 1 KiB. */
export const JSON_ANSWER_MAX_BYTES = 64 * 1024;

/**
 * Slack over a download's expected size, for what a server may send instead of the bytes asked
 * (a JSON error, a one-byte error code, an HTML error page).
 */
export const DOWNLOAD_SLACK_BYTES = 64 * 1024;

/**
 * A Luat file answer: the device learns its size only from the answer itself, so this is a
 * ceiling, not the offer: the largest firmware a catalog may hold (256 MiB, src/catalog/schema.ts)
 * plus slack. Real modules (Air724 / Air780 class) take 4-8 MiB; the cap still bounds a server
 * that never ends its body.
 */
export const LUAT_FILE_MAX_BYTES = 256 * 1024 * 1024 + DOWNLOAD_SLACK_BYTES;

/**
 * A ranged download: the whole file plus slack, not just the range. A server that ignores Range
 * answers 200 with the whole file, and that is a protocol break the verdicts must see as an
 * answer, not a transport error.
 */
export const downloadAnswerMaxBytes = (fileBytes: number): number => Math.max(0, fileBytes) + DOWNLOAD_SLACK_BYTES;
