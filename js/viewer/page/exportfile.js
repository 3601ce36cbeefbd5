// Reading a file the user opens in the viewer: an `exportLocal()` JSON export
// (`{"agensight": "records", "version": 1, "records": [{type, data}, ...]}`), a bare array of
// records, or store lines (`.jsonl`). Shared by the viewer page (file picker / drop) and the
// viewer server (`--file`); no runtime-specific imports.

import { parseLines } from "../../records.js";

const isRecord = (r) => r !== null && typeof r === "object" && typeof r.type === "string" && r.data !== null && typeof r.data === "object";

/**
 * @param {string} text
 * @returns {{ records: {type: string, data: object}[], skipped: number, warnings: string[] }}
 * @throws {Error} when the text is JSON but not an Agensight export
 */
export function parseExport(text) {
  const warnings = [];
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  let doc;
  try {
    doc = JSON.parse(trimmed);
  } catch {
    // Not one JSON document: read it as store lines (a `.jsonl` file from `.agensight/`).
    const { records, skipped } = parseLines(trimmed);
    if (records.length === 0 && skipped > 0) {
      throw new Error("This file is neither an Agensight export (JSON from exportLocal()) nor store lines (.jsonl).");
    }
    return { records, skipped, warnings };
  }
  let list;
  if (Array.isArray(doc)) list = doc;
  else if (isRecord(doc)) list = [doc];
  else if (doc && typeof doc === "object" && doc.agensight === "records" && Array.isArray(doc.records)) {
    if (typeof doc.version === "number" && doc.version > 1) {
      warnings.push(`Export version ${doc.version} is newer than this viewer (version 1): some fields may not be shown.`);
    }
    list = doc.records;
    if (typeof doc.omittedBytes === "number" && doc.omittedBytes > 0) {
      warnings.push(`This export holds the newest records of a bigger store: ${doc.omittedBytes} bytes of older records were left out (exportLocal({ maxBytes }) reads more).`);
    }
  } else {
    throw new Error('This JSON is not an Agensight export: expected {"agensight": "records", "version": 1, "records": [...]}, as written by exportLocal().');
  }
  const records = list.filter(isRecord);
  return { records, skipped: list.length - records.length, warnings };
}
