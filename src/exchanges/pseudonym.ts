/** Task tokens (a download's credential) as pseudonyms in a run's exchange log: the same token, the same pseudonym. */
import { createHmac, randomBytes } from 'node:crypto';

/** Pseudonyms of task tokens under a random salt (a run's exchange log): `task-` and 16 hex digits. */
export function taskPseudonyms(salt: Buffer = randomBytes(16)): (task: string) => string {
  const seen = new Map<string, string>();
  return (task) => {
    let p = seen.get(task);
    if (p === undefined) {
      p = `task-${createHmac('sha256', salt).update(task).digest('hex').slice(0, 16)}`;
      if (seen.size < 100_000) seen.set(task, p);
    }
    return p;
  };
}
