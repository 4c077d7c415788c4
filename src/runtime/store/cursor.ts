/**
 * Listing cursors: the last item's score and id, so a page resumes exactly after it even when
 * many items share a score. Opaque to clients (base64url).
 */
export interface CursorPosition {
  score: number;
  id: string;
}

export function encodeCursor(score: number, id: string): string {
  return Buffer.from(`${score}:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition | null {
  const text = Buffer.from(cursor, 'base64url').toString();
  const at = text.indexOf(':');
  if (at <= 0) return null;
  const score = Number(text.slice(0, at));
  if (!Number.isFinite(score)) return null;
  return { score, id: text.slice(at + 1) };
}
