import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, JOB_FAILURE_CODES } from '../../src/errors.js';

const docPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'errors.md');

interface DocRow {
  status: number;
  retryable: boolean;
  when: string;
}

function documentedCodes(): Map<string, DocRow> {
  const rows = new Map<string, DocRow>();
  for (const line of readFileSync(docPath, 'utf8').split('\n')) {
    const match = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*(\d{3})\s*\|\s*(yes|no)\s*\|(.*)\|\s*$/.exec(line);
    if (!match) continue;
    const [, code, status, retryable, when] = match;
    expect(rows.has(code as string), `${code} is documented twice`).toBe(false);
    rows.set(code as string, {
      status: Number(status),
      retryable: retryable === 'yes',
      when: (when ?? '').trim(),
    });
  }
  return rows;
}

describe('docs/errors.md', () => {
  const documented = documentedCodes();

  it('documents every registry code with its status and retryable flag', () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      const row = documented.get(code);
      expect(row, `${code} is missing from docs/errors.md`).toBeDefined();
      expect(row?.status, `${code} status`).toBe(entry.status);
      expect(row?.retryable, `${code} retryable`).toBe(entry.retryable);
      expect(row?.when.length, `${code} needs a "when it happens"`).toBeGreaterThan(10);
    }
  });

  it('documents no code that is not in the registry', () => {
    const unknown = [...documented.keys()].filter((code) => !(code in ERROR_CODES));
    expect(unknown).toEqual([]);
  });
});

describe('docs/errors.md job failure codes', () => {
  const rows = new Map<string, string>();
  for (const line of readFileSync(docPath, 'utf8').split('\n')) {
    const match = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*(yes|no|per input)\s*\|(.*)\|\s*$/.exec(line);
    if (match) rows.set(match[1] as string, match[2] as string);
  }

  it('documents every job failure code, and only those', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(JOB_FAILURE_CODES).sort());
    for (const [code, entry] of Object.entries(JOB_FAILURE_CODES)) {
      if (rows.get(code) !== 'per input') expect(rows.get(code), code).toBe(entry.retryable ? 'yes' : 'no');
    }
  });
});
