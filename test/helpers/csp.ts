/** A Content-Security-Policy header as directive name → its sources, for tests that check one. */
export function parseCsp(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((d) => {
      const [name = '', ...sources] = d.trim().split(/\s+/);
      return [name, sources];
    }),
  );
}
