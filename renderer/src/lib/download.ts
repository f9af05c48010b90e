/**
 * Saves parts (strings or Blobs, joined in order) as a file through the browser (a Blob and a
 * temporary link); works in Electron too. The parts are not concatenated into one string first:
 * a Blob built from many parts keeps a huge download from needing one giant string.
 */
export function downloadParts(filename: string, parts: readonly BlobPart[], mime: string): void {
  const url = URL.createObjectURL(new Blob(parts as BlobPart[], { type: mime }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.rel = 'noopener';
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Revoke later: some engines read the blob after click() returns.
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 10_000);
}

/** Saves text as a file (see {@link downloadParts}). */
export function downloadText(filename: string, text: string, mime: string): void {
  downloadParts(filename, [text], mime);
}
