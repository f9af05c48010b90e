/** Whether `error` is a Node system error with this `code` (e.g. `ENOENT`, `EEXIST`, `EPERM`). */
export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
