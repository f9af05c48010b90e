import { isErrno } from './isErrno';

/**
 * Whether a process with this pid exists: signal 0 checks without signalling. EPERM means it
 * exists but belongs to another user, so it counts as alive. A pid can be reused by an unrelated
 * process after its owner died; callers that must tell those apart keep more than the pid.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM');
  }
}
