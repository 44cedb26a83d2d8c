// What every check script here reports: the step it is at, a line per
// check passed, and a failure (naming the step) that ends the process.

let current = 'starting';

/** The step the next failure names. */
export function step(name) {
  current = name;
}

/** Reports a failure at the current step and exits with status 1. */
export function fail(msg) {
  console.error(`FAIL (${current}): ${msg}`);
  process.exit(1);
}

/** Fails with `msg` unless `cond`. */
export function check(cond, msg) {
  if (!cond) fail(msg);
}

/** Reports a check passed. */
export function ok(msg) {
  console.log(`ok: ${msg}`);
}
