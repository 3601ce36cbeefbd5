// Turning arbitrary JS values (a traced function's arguments and return value, a thrown error)
// into JSON text before they cross into WebAssembly. Plain ES module with no imports: it runs
// unchanged in Node, Deno, Bun, workerd and browsers.
//
// toJson(value, maxBytes = 65536) -> string. Rules (product decisions):
//
//  * The result is always valid JSON text for ANY input, and toJson never throws and never
//    hangs. Top-level `undefined` -> `null`. An exception at any spot becomes a placeholder
//    string at that spot; whatever was half-written for that spot is rolled back first.
//  * Plain objects, arrays, strings, finite numbers, booleans, null: as JSON.stringify writes
//    them (object keys in own-enumerable-string-key order, symbol keys ignored). NaN/±Infinity
//    -> null.
//  * undefined: omitted as an object member, null as an array element (both like
//    JSON.stringify). Sparse array holes -> null.
//  * Functions -> "[Function: name]" ("[Function: anonymous]" when nameless), and symbols ->
//    String(sym), e.g. "Symbol(desc)", in every position (JSON.stringify drops them from
//    objects and writes null in arrays; we keep them visible). A function's toJSON is not
//    consulted.
//  * BigInt -> its decimal string, e.g. "12345678901234567890" (a string, not a number).
//  * toJSON is honoured like JSON.stringify: called with the key ("" at the top, the index as
//    a string in arrays), its result is written without consulting toJSON again. Date -> ISO
//    string; an invalid Date -> null. A toJSON returning undefined omits the member / writes
//    null in arrays (as JSON.stringify). A toJSON that throws -> "[toJSON threw: <message>]".
//    A toJSON that returns `this` gets the object written, its toJSON method showing as a
//    function placeholder. Exception: typed arrays and DataView (so Node's Buffer) always use
//    the $typed form below, because Buffer.prototype.toJSON copies every byte into an array.
//  * Any property read that throws (a getter, a Proxy trap, a revoked Proxy where even
//    Array.isArray / Object.keys throw) -> "[Thrown: <message>]" at that spot; the rest of the
//    enclosing object is still written. Messages in placeholders are cut to 1000 characters.
//  * Cycles -> "[Circular]". Only true ancestors count: the same object referenced twice in
//    sibling positions is written twice.
//  * Map -> {"$map": [[k, v], ...]}; Set -> {"$set": [v, ...]}.
//  * Error (instanceof Error, or Object.prototype.toString tag "[object Error]") ->
//    {"name", "message", "stack", "cause"?, "errors"?} followed by its other own enumerable
//    props (e.g. code, status). name is resolved like errorInfo's (so `class MyErr extends
//    Error {}` gives "MyErr"); message/stack are "" when absent; cause is present when it is
//    not undefined; errors is written for AggregateError.
//  * Typed arrays and DataView -> {"$typed": "Uint8Array", "length": n, "data": [...]} with at
//    most the first 64 elements (DataView: length is byteLength, data the first bytes);
//    BigInt64 elements as decimal strings. ArrayBuffer / SharedArrayBuffer ->
//    {"$typed": "ArrayBuffer", "byteLength": n}.
//  * RegExp -> its string form "/a/g"; Promise -> "[Promise]"; WeakMap / WeakSet ->
//    "[WeakMap]" / "[WeakSet]". Boxed primitives (new String("a"), Object(1n), ...) are
//    unboxed (JSON.stringify does so for String/Number/Boolean). A Date without a usable
//    toJSON -> ISO string or null.
//  * Built-in kinds are recognised by brand checks (cross-realm values included), never by a
//    spoofable Symbol.toStringTag alone. The exception is Error: a tag of "[object Error]" is
//    enough (also on a plain object that sets Symbol.toStringTag to "Error"). Class instances
//    and other host objects (ReadableStream, AbortController, ...): their own enumerable
//    props, like JSON.stringify, with every access guarded.
//  * Fetch API objects, written usefully and with their credentials masked here (as
//    "[REDACTED]", the way the core spells it) before anything crosses: Headers -> an object of
//    its pairs, the values of secret-named headers (authorization, cookie, x-api-key, ...)
//    masked; Request -> {"method", "url", "headers"}; Response -> {"status", "statusText",
//    "url", "headers"}; URL -> its href, any user:password in it masked. Bodies are not read
//    (that would consume the app's stream).
//  * Strings are written with JSON.stringify(str), which is well-formed: lone surrogates come
//    out as \udxxx escapes. A string (or object key) longer than maxBytes characters is cut to
//    maxBytes characters followed by "…" before encoding (one fewer when the cut would split a
//    surrogate pair), so a 10 MB string is never copied whole.
//  * Bounded work. Depth counts JSON nesting levels (a Map adds 3: {"$map":[[ ; a Set 2): a
//    container at depth 64 or deeper -> "[MaxDepth]", so output never nests much past 64
//    levels (serde_json's default recursion limit is 128) and the JS stack never overflows.
//    Output budget: once the text written so far exceeds maxBytes * 2 characters, each open
//    container writes one "[Truncated]" element (in objects: the next key with the value
//    "[Truncated]") and closes, so the result stays valid JSON. The Rust side does exact
//    truncation to maxBytes; the budget only stops the work from being unbounded (an object
//    with 1e6 keys or an array with 1e7 elements returns in milliseconds).
//  * maxBytes is floored; one that is not a number >= 1 falls back to 65536; it is capped at
//    2^26, the largest maxFieldBytes init() accepts (Infinity included).
//  * Re-entrant: a getter or toJSON that itself calls toJson works.
//
// errorInfo(err) -> { name, message, stack }, all strings, never throws. See its comment.
//
// writeUtf8(value, maxBytes, view) -> bytes written into `view`, or -1: toJson's text as UTF-8,
// written straight into a byte array (the wasm core's text buffer) in one pass, for plain data
// only (below); -1 for anything else, and the caller takes toJson. No string is built.

const MAX_DEPTH = 64;
const TYPED_MAX = 64;
const MSG_MAX = 1000;
const DEFAULT_MAX = 65536;
const MAX_MAX = 67108864; // the largest maxFieldBytes init() accepts

const CIRCULAR = '"[Circular]"';
const MAXDEPTH = '"[MaxDepth]"';
const TRUNCATED = '"[Truncated]"';

// Built-ins captured at load time, so later monkey-patching by user code cannot break us.
const stringify = JSON.stringify;
const keysOf = Object.keys;
const getProto = Object.getPrototypeOf;
const isArray = Array.isArray;
const isView = ArrayBuffer.isView;
const apply = Reflect.apply;
const ObjProto = Object.prototype;
const ArrProto = Array.prototype;
/** hasOwn(o, k): Object.prototype.hasOwnProperty, bound at load (V8 keeps its for-in fast path). */
const hasOwn = Function.prototype.call.bind(ObjProto.hasOwnProperty);
const objToString = ObjProto.toString;
const StringCtor = String;
const TO_STRING_TAG = Symbol.toStringTag;

function getterOf(proto, name) {
  try {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    return d && typeof d.get === "function" ? d.get : undefined;
  } catch {
    return undefined;
  }
}

const TypedArrayProto = getProto(Uint8Array.prototype);
const taTag = getterOf(TypedArrayProto, Symbol.toStringTag);
const taLength = getterOf(TypedArrayProto, "length");
const dvByteLength = getterOf(DataView.prototype, "byteLength");
const dvByteOffset = getterOf(DataView.prototype, "byteOffset");
const dvBuffer = getterOf(DataView.prototype, "buffer");
const abByteLength = getterOf(ArrayBuffer.prototype, "byteLength");
const sabByteLength =
  typeof SharedArrayBuffer === "function" ? getterOf(SharedArrayBuffer.prototype, "byteLength") : undefined;
const mapSize = getterOf(Map.prototype, "size");
const setSize = getterOf(Set.prototype, "size");
const mapEntries = Map.prototype.entries;
const setValues = Set.prototype.values;
const weakMapHas = WeakMap.prototype.has;
const weakSetHas = WeakSet.prototype.has;
const reSource = getterOf(RegExp.prototype, "source");
const reToString = RegExp.prototype.toString;
const dateGetTime = Date.prototype.getTime;
const dateToISO = Date.prototype.toISOString;
const strValueOf = String.prototype.valueOf;
const numValueOf = Number.prototype.valueOf;
const boolValueOf = Boolean.prototype.valueOf;
const bigValueOf = typeof BigInt === "function" ? BigInt.prototype.valueOf : undefined;
const symValueOf = Symbol.prototype.valueOf;
const ErrorCtor = Error;
const MapCtor = Map;
const SetCtor = Set;
const AggErr = typeof AggregateError === "function" ? AggregateError : undefined;
const U8 = Uint8Array;
// Headers, Request and Response are read at the first value that says it is one, not at load:
// in Node the first touch of these globals loads undici (about 20 ms of a cold start).
let fetchTypes = null;
const web = () =>
  (fetchTypes ??= {
    headersGet: typeof Headers === "function" ? Headers.prototype.get : undefined,
    headersEntries: typeof Headers === "function" ? Headers.prototype.entries : undefined,
    requestUrl: typeof Request === "function" ? getterOf(Request.prototype, "url") : undefined,
    responseStatus: typeof Response === "function" ? getterOf(Response.prototype, "status") : undefined,
  });
const URLProto = typeof URL === "function" ? URL.prototype : undefined;
const urlHref = URLProto ? getterOf(URLProto, "href") : undefined;
const urlToJSON = URLProto?.toJSON;

const MASK = "[REDACTED]";
/** Header names whose values are credentials (lowercased, letters and digits only): the same
 * names the core masks object keys by (src/redact.rs). */
const SECRET_NAME = /(token|authorization|cookie|signature|pwd|auth|accesskey|accountkey)$|^(pass|sig|creds)$|passw(or)?d|passphrase|secret|apikey|privatekey|credential/;
const isSecretName = (name) => SECRET_NAME.test(StringCtor(name).toLowerCase().replace(/[^a-z0-9]/g, ""));

/** Whether calling `fn` with `this = o` succeeds (a brand check through a built-in). */
function brand(fn, o, arg) {
  if (fn === undefined) return false;
  try {
    apply(fn, o, [arg]);
    return true;
  } catch {
    return false;
  }
}

// Serializer state. Module-level for speed; toJson saves and restores it so a getter or toJSON
// that calls toJson again (re-entrancy) gets its own. `var`, not `let`: V8 checks a `let` read
// or written from another function for its temporal dead zone every time, and the writer
// touches these per byte (-5% of writeUtf8, -3% of a span; HACKING "The per-span hot path").
var out = "";
var budget = 0;
var strMax = DEFAULT_MAX;
var busy = false;
const newStack = () => new Array(MAX_DEPTH + 8).fill(undefined);
var stack = newStack(); // stack[d] = the object being written at depth d (ancestors only)

/**
 * Returns valid JSON text for any value; never throws, never hangs.
 * @param {unknown} value
 * @param {number} [maxBytes] strings are cut to this many characters; the output budget is twice it
 * @returns {string}
 */
export function toJson(value, maxBytes = DEFAULT_MAX) {
  const prevOut = out, prevBudget = budget, prevStrMax = strMax, prevStack = stack, prevBusy = busy;
  let result;
  try {
    if (busy) stack = newStack();
    busy = true;
    out = "";
    let m = DEFAULT_MAX;
    if (typeof maxBytes === "number" && maxBytes >= 1) {
      m = maxBytes >= MAX_MAX ? MAX_MAX : maxBytes - (maxBytes % 1);
    }
    strMax = m;
    budget = m * 2;
    if (!writeValue(value, 0, "")) out += "null";
    result = out;
  } catch (e) {
    // Only reachable for failures outside every guarded spot (stack exhaustion right at the
    // top, out of memory).
    try {
      result = thrownAt(e);
    } catch {
      result = '"[Thrown: unknown error]"';
    }
  } finally {
    out = prevOut;
    budget = prevBudget;
    strMax = prevStrMax;
    stack = prevStack;
    busy = prevBusy;
  }
  return result;
}

// ---- Plain data straight to UTF-8 (writeUtf8) ----
// Plain data: objects whose prototype is Object.prototype or null with no toJSON and no
// Symbol.toStringTag, arrays (Array.prototype), strings up to maxBytes characters, numbers,
// booleans, null, undefined; no container at depth MAX_DEPTH - 1 or deeper, and text within
// the output budget. For these toJson writes what JSON.stringify does, and so does this
// writer, byte for byte (tests/js/serialize.test.mjs compares them). Each property is read
// once; a read that throws gives -1 (toJson then reads it again and writes its placeholder).

/** What `bytes` is between calls: made once, so a call allocates nothing. */
const NO_BYTES = new U8(0);
// `var` for the same reason as the state above.
var bytes = NO_BYTES;
var at = 0;
var units = 0; // UTF-16 units of the JSON text so far (the budget counts those)
const HEXD = "0123456789abcdef";
/** From this length a string without escapes or surrogates goes through `encodeInto`. */
const LONG = 64;
// Control characters, `"`, `\` and surrogates: what `putString`'s own loop handles.
const NEEDS_LOOP = /["\\\u0000-\u001f\ud800-\udfff]/;
const ENCODER = new TextEncoder();

/**
 * Writes `value` as toJson(value, maxBytes) would, UTF-8 encoded, into `view` from 0.
 * @param {unknown} value
 * @param {number} maxBytes as toJson's
 * @param {Uint8Array} view
 * @returns {number} the bytes written; -1: not plain data, no room, or over the budget
 */
export function writeUtf8(value, maxBytes, view) {
  if (busy) return -1;
  let m = DEFAULT_MAX;
  if (typeof maxBytes === "number" && maxBytes >= 1) m = maxBytes >= MAX_MAX ? MAX_MAX : maxBytes - (maxBytes % 1);
  const prevStrMax = strMax, prevBudget = budget;
  busy = true;
  try {
    strMax = m;
    budget = m * 2;
    bytes = view;
    at = 0;
    units = 0;
    if (value === undefined) return putAscii("null") ? at : -1;
    return putValue(value, 0) ? at : -1;
  } catch {
    return -1;
  } finally {
    strMax = prevStrMax;
    budget = prevBudget;
    bytes = NO_BYTES;
    busy = false;
  }
}

/** ASCII text as it is; false when it does not fit. */
function putAscii(t) {
  const n = t.length;
  if (at + n > bytes.length) return false;
  for (let i = 0; i < n; i++) bytes[at + i] = t.charCodeAt(i);
  at += n;
  units += n;
  return units <= budget;
}

/** One ASCII byte (a bracket or separator); false when it does not fit. */
function put1(c) {
  if (at >= bytes.length) return false;
  bytes[at++] = c;
  return ++units <= budget;
}

/** A plain value (undefined only inside containers, handled there); false: give up. */
function putValue(v, depth) {
  switch (typeof v) {
    case "string":
      return v.length <= strMax && putString(v);
    case "number":
      return putAscii(v === v && v !== Infinity && v !== -Infinity ? "" + v : "null");
    case "boolean":
      return putAscii(v ? "true" : "false");
    case "object":
      if (v === null) return putAscii("null");
      if (depth >= MAX_DEPTH - 1) return false;
      if (getProto(v) === ArrProto) return v.toJSON === undefined && putArray(v, depth + 1);
      return putObject(v, depth + 1);
    default:
      return false;
  }
}

function putArray(a, d) {
  const n = a.length;
  if (!put1(0x5b)) return false;
  for (let i = 0; i < n; i++) {
    if (i !== 0 && !put1(0x2c)) return false;
    const v = a[i];
    if (v === undefined ? !putAscii("null") : !putValue(v, d)) return false;
  }
  return put1(0x5d);
}

function putObject(o, d) {
  const proto = getProto(o);
  if ((proto !== ObjProto && proto !== null) || o.toJSON !== undefined || o[TO_STRING_TAG] !== undefined || isArray(o)) return false;
  if (!put1(0x7b)) return false;
  let first = true;
  // for-in over own keys: the order of Object.keys (JSON.stringify's), and V8 reads `o[k]`
  // through the object's enum cache, several times faster than a keys array's lookups.
  for (const k in o) {
    if (!hasOwn(o, k)) continue;
    const v = o[k];
    if (v === undefined) continue;
    if ((!first && !put1(0x2c)) || k.length > strMax || !putString(k) || !put1(0x3a) || !putValue(v, d)) return false;
    first = false;
  }
  return put1(0x7d);
}

/** A string as JSON.stringify quotes it, UTF-8 encoded. */
function putString(s) {
  const n = s.length;
  // Room for three bytes per unit (every character but the escapes, checked as they come).
  if (at + n * 3 + 2 > bytes.length) return false;
  const b = bytes;
  if (n >= LONG && !NEEDS_LOOP.test(s)) {
    // Nothing to escape and no surrogate: the native encoder, into a view at the position
    // (an allocation, which only a long string repays).
    b[at] = 0x22;
    const k = at + 1 + ENCODER.encodeInto(s, b.subarray(at + 1, at + 1 + n * 3)).written;
    b[k] = 0x22;
    at = k + 1;
    units += n + 2;
    return units <= budget;
  }
  let k = at;
  b[k++] = 0x22;
  // UTF-16 units written: one per unit of `s` (a pair is two), the quotes, and what escapes add.
  let u = n + 2;
  let i = 0;
  // Four units a turn while all four are kept as they are (printable ASCII but `"` and `\`):
  // one loop check per four, and V8 reads the string's representation once for the four
  // loads instead of at every unit (-8% of writeUtf8). The loop below takes the rest.
  for (; i + 4 <= n; i += 4) {
    const c0 = s.charCodeAt(i), c1 = s.charCodeAt(i + 1), c2 = s.charCodeAt(i + 2), c3 = s.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) break;
    // The four as the bytes of one word, tested together (each bit 7 of the result says:
    // that byte is below 0x20, or is `"`, or `\`; exact for bytes below 0x80): -4% more.
    const x = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    const q = x ^ 0x22222222, e = x ^ 0x5c5c5c5c;
    if ((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((e - 0x01010101) & ~e)) & 0x80808080) break;
    b[k] = c0;
    b[k + 1] = c1;
    b[k + 2] = c2;
    b[k + 3] = c3;
    k += 4;
  }
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
        b[k++] = c;
        continue;
      }
      // An escape: up to six bytes for this unit, three for each one left, the quote.
      if (k + 6 + (n - i - 1) * 3 + 1 > b.length) return false;
      b[k++] = 0x5c;
      const short = c === 0x22 ? 0x22 : c === 0x5c ? 0x5c : c === 8 ? 0x62 : c === 12 ? 0x66 : c === 10 ? 0x6e : c === 13 ? 0x72 : c === 9 ? 0x74 : 0;
      if (short !== 0) {
        b[k++] = short;
        u += 1;
      } else {
        b[k++] = 0x75;
        b[k++] = 0x30;
        b[k++] = 0x30;
        b[k++] = HEXD.charCodeAt(c >> 4);
        b[k++] = HEXD.charCodeAt(c & 15);
        u += 5;
      }
    } else if (c < 0x800) {
      b[k++] = 0xc0 | (c >> 6);
      b[k++] = 0x80 | (c & 63);
    } else if (c < 0xd800 || c > 0xdfff) {
      b[k++] = 0xe0 | (c >> 12);
      b[k++] = 0x80 | ((c >> 6) & 63);
      b[k++] = 0x80 | (c & 63);
    } else {
      const d = c <= 0xdbff && i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        // A surrogate pair: one character, four bytes (the room of its two units and more).
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        b[k++] = 0xf0 | (cp >> 18);
        b[k++] = 0x80 | ((cp >> 12) & 63);
        b[k++] = 0x80 | ((cp >> 6) & 63);
        b[k++] = 0x80 | (cp & 63);
        i++;
      } else {
        // A lone surrogate, escaped as JSON.stringify does: \udxxx (six bytes for one unit).
        if (k + 6 + (n - i - 1) * 3 + 1 > b.length) return false;
        b[k++] = 0x5c;
        b[k++] = 0x75;
        for (let sh = 12; sh >= 0; sh -= 4) b[k++] = HEXD.charCodeAt((c >> sh) & 15);
        u += 5;
      }
    }
  }
  b[k++] = 0x22;
  at = k;
  units += u;
  return units <= budget;
}

/** Appends `v`; returns false (writing nothing) for undefined, which the caller omits or nulls. */
function writeValue(v, depth, key) {
  switch (typeof v) {
    case "string":
      out += quote(v);
      return true;
    case "number":
      out += v === v && v !== Infinity && v !== -Infinity ? "" + v : "null";
      return true;
    case "boolean":
      out += v ? "true" : "false";
      return true;
    case "object":
      if (v === null) {
        out += "null";
        return true;
      }
      return writeObject(v, depth, key);
    case "undefined":
      return false;
    case "bigint":
      out += '"' + v + '"';
      return true;
    case "symbol":
      out += quote(StringCtor(v));
      return true;
    case "function":
      out += quote(functionLabel(v));
      return true;
    default:
      out += quote("[" + typeof v + "]");
      return true;
  }
}

function quote(s) {
  const n = s.length;
  if (n > strMax) return quoteCut(s);
  if (n > 128) return stringify(s);
  // Short strings: JSON.stringify escapes only '"', '\\', controls and lone surrogates; when
  // there are none, quoting by hand gives the same text and is several times faster.
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return stringify(s);
  }
  return '"' + s + '"';
}

function quoteCut(s) {
  let n = strMax;
  const c = s.charCodeAt(n - 1);
  if (c >= 0xd800 && c <= 0xdbff) n--;
  return stringify(s.slice(0, n) + "…");
}

function functionLabel(f) {
  let n;
  try {
    n = f.name;
  } catch {
    n = undefined;
  }
  return "[Function: " + (typeof n === "string" && n !== "" ? n : "anonymous") + "]";
}

function cutMsg(s) {
  return s.length > MSG_MAX ? s.slice(0, MSG_MAX) + "…" : s;
}

/** A thrown value's message as a string; never throws. */
function messageOf(e) {
  try {
    if ((typeof e === "object" && e !== null) || typeof e === "function") {
      const m = e.message;
      if (typeof m === "string") return cutMsg(m);
    }
    return cutMsg(StringCtor(e));
  } catch {
    return "unknown error";
  }
}

function thrownAt(e) {
  return stringify("[Thrown: " + messageOf(e) + "]");
}

function writeObject(o, depth, key) {
  const start = out.length;
  try {
    // toJSON, like JSON.stringify: read it (a throwing read is a [Thrown]), call it, and write
    // its result without consulting toJSON again. Not for typed arrays: Node's
    // Buffer.prototype.toJSON would copy every byte into an array.
    let tj;
    try {
      tj = o.toJSON;
    } catch (e) {
      out += thrownAt(e);
      return true;
    }
    if (tj === urlToJSON && tj !== undefined && brand(urlHref, o)) {
      out += quote(maskedHref(o));
      return true;
    }
    if (typeof tj === "function" && !isView(o)) {
      let r;
      try {
        r = apply(tj, o, [typeof key === "number" ? "" + key : key]);
      } catch (e) {
        out += stringify("[toJSON threw: " + messageOf(e) + "]");
        return true;
      }
      if (typeof r !== "object" || r === null) return writeValue(r, depth, key);
      o = r;
    }
    if (depth >= MAX_DEPTH) {
      out += MAXDEPTH;
      return true;
    }
    for (let i = 0; i < depth; i++) {
      if (stack[i] === o) {
        out += CIRCULAR;
        return true;
      }
    }
    stack[depth] = o;
    if (isArray(o)) {
      writeArray(o, depth);
    } else {
      const proto = getProto(o);
      if ((proto === ObjProto || proto === null) && o[TO_STRING_TAG] === undefined) {
        out += "{";
        writeProps(o, depth, "", 0);
        out += "}";
      } else {
        writeExotic(o, depth);
      }
    }
    stack[depth] = undefined;
    return true;
  } catch (e) {
    stack[depth] = undefined;
    out = out.slice(0, start) + thrownAt(e);
    return true;
  }
}

function writeArray(a, depth) {
  const len = a.length;
  out += "[";
  const d = depth + 1;
  for (let i = 0; i < len; i++) {
    if (i !== 0) out += ",";
    if (out.length > budget) {
      out += TRUNCATED;
      break;
    }
    let v;
    try {
      v = a[i];
    } catch (e) {
      out += thrownAt(e);
      continue;
    }
    if (!writeValue(v, d, i)) out += "null";
  }
  out += "]";
}

/** Writes the own enumerable string-keyed members of `o` (no braces), each preceded by `sep`
 * once something was written. `skip` 1 (Error) / 2 (AggregateError) leaves out the keys
 * writeError already wrote. */
function writeProps(o, depth, sep, skip) {
  const keys = keysOf(o);
  const d = depth + 1;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (skip !== 0) {
      if (k === "name" || k === "message" || k === "stack" || k === "cause") continue;
      if (skip === 2 && k === "errors") continue;
    }
    if (out.length > budget) {
      out += sep + quote(k) + ":" + TRUNCATED;
      break;
    }
    let v;
    try {
      v = o[k];
    } catch (e) {
      out += sep + quote(k) + ":" + thrownAt(e);
      sep = ",";
      continue;
    }
    if (v === undefined) continue;
    const mark = out.length;
    out += sep + quote(k) + ":";
    if (writeValue(v, d, k)) sep = ",";
    else out = out.slice(0, mark); // a toJSON that returned undefined: omit, like JSON.stringify
  }
}

function writeExotic(o, depth) {
  if (isView(o)) return writeTyped(o);
  const tag = apply(objToString, o, []);
  switch (tag) {
    case "[object Map]":
      if (brand(mapSize, o)) return writeMap(o, depth);
      break;
    case "[object Set]":
      if (brand(setSize, o)) return writeSet(o, depth);
      break;
    case "[object Error]":
      return writeError(o, depth);
    case "[object Promise]":
      out += '"[Promise]"';
      return;
    case "[object WeakMap]":
      if (brand(weakMapHas, o, ObjProto)) {
        out += '"[WeakMap]"';
        return;
      }
      break;
    case "[object WeakSet]":
      if (brand(weakSetHas, o, ObjProto)) {
        out += '"[WeakSet]"';
        return;
      }
      break;
    case "[object RegExp]":
      if (brand(reSource, o)) {
        out += quote(apply(reToString, o, []));
        return;
      }
      break;
    case "[object ArrayBuffer]":
      if (brand(abByteLength, o)) {
        out += '{"$typed":"ArrayBuffer","byteLength":' + apply(abByteLength, o, []) + "}";
        return;
      }
      break;
    case "[object SharedArrayBuffer]":
      if (brand(sabByteLength, o)) {
        out += '{"$typed":"SharedArrayBuffer","byteLength":' + apply(sabByteLength, o, []) + "}";
        return;
      }
      break;
    case "[object Headers]":
      if (brand(web().headersGet, o, "x")) return writeHeaders(o);
      break;
    case "[object Request]":
      if (brand(web().requestUrl, o)) {
        out += '{"method":' + quote(StringCtor(o.method)) + ',"url":' + quote(maskedUrl(o.url)) + ',"headers":';
        writeHeaders(o.headers);
        out += "}";
        return;
      }
      break;
    case "[object Response]":
      if (brand(web().responseStatus, o)) {
        out += '{"status":' + (+o.status) + ',"statusText":' + quote(StringCtor(o.statusText)) + ',"url":' + quote(maskedUrl(o.url)) + ',"headers":';
        writeHeaders(o.headers);
        out += "}";
        return;
      }
      break;
    case "[object URL]":
      if (brand(urlHref, o)) {
        out += quote(maskedHref(o));
        return;
      }
      break;
    case "[object Date]":
      if (brand(dateGetTime, o)) {
        const t = apply(dateGetTime, o, []);
        out += t === t ? stringify(apply(dateToISO, o, [])) : "null";
        return;
      }
      break;
    case "[object String]":
      if (brand(strValueOf, o)) return void writeValue(apply(strValueOf, o, []), depth, "");
      break;
    case "[object Number]":
      if (brand(numValueOf, o)) return void writeValue(apply(numValueOf, o, []), depth, "");
      break;
    case "[object Boolean]":
      if (brand(boolValueOf, o)) return void writeValue(apply(boolValueOf, o, []), depth, "");
      break;
    case "[object BigInt]":
      if (brand(bigValueOf, o)) return void writeValue(apply(bigValueOf, o, []), depth, "");
      break;
    case "[object Symbol]":
      if (brand(symValueOf, o)) return void writeValue(apply(symValueOf, o, []), depth, "");
      break;
  }
  // Subclasses that override Symbol.toStringTag, and DOMException and friends.
  if (o instanceof ErrorCtor) return writeError(o, depth);
  if (o instanceof MapCtor && brand(mapSize, o)) return writeMap(o, depth);
  if (o instanceof SetCtor && brand(setSize, o)) return writeSet(o, depth);
  out += "{";
  writeProps(o, depth, "", 0);
  out += "}";
}

/** A Headers object as {name: value}, the values of secret-named headers masked. */
function writeHeaders(h) {
  if (!brand(web().headersGet, h, "x")) {
    out += "{}";
    return;
  }
  out += "{";
  let sep = "";
  for (const [name, value] of apply(web().headersEntries, h, [])) {
    if (out.length > budget) {
      out += sep + '"[Truncated]":' + TRUNCATED;
      break;
    }
    out += sep + quote(name) + ":" + quote(isSecretName(name) ? MASK : value);
    sep = ",";
  }
  out += "}";
}

/** A URL object's href with any user:password replaced by the mask. */
function maskedHref(u) {
  const href = apply(urlHref, u, []);
  if (u.username === "" && u.password === "") return href;
  return u.protocol + "//" + MASK + "@" + u.host + u.pathname + u.search + u.hash;
}

/** A URL string (a Request's or Response's) with any user:password masked. */
function maskedUrl(s) {
  const text = StringCtor(s);
  if (URLProto === undefined || !text.includes("@")) return text;
  try {
    return maskedHref(new URL(text));
  } catch {
    return text;
  }
}

function writeMap(m, depth) {
  out += '{"$map":[';
  const d = depth + 3;
  let first = true;
  for (const entry of apply(mapEntries, m, [])) {
    if (!first) out += ",";
    first = false;
    if (out.length > budget) {
      out += TRUNCATED;
      break;
    }
    out += "[";
    if (!writeValue(entry[0], d, "0")) out += "null";
    out += ",";
    if (!writeValue(entry[1], d, "1")) out += "null";
    out += "]";
  }
  out += "]}";
}

function writeSet(s, depth) {
  out += '{"$set":[';
  const d = depth + 2;
  let i = 0;
  for (const v of apply(setValues, s, [])) {
    if (i !== 0) out += ",";
    if (out.length > budget) {
      out += TRUNCATED;
      break;
    }
    if (!writeValue(v, d, i)) out += "null";
    i++;
  }
  out += "]}";
}

function writeTyped(o) {
  let name = taTag === undefined ? undefined : apply(taTag, o, []);
  let len;
  let data;
  if (typeof name === "string") {
    len = apply(taLength, o, []);
    data = o;
  } else {
    name = "DataView";
    len = apply(dvByteLength, o, []);
    data = new U8(apply(dvBuffer, o, []), apply(dvByteOffset, o, []), len < TYPED_MAX ? len : TYPED_MAX);
  }
  out += '{"$typed":"' + name + '","length":' + len + ',"data":[';
  const n = len < TYPED_MAX ? len : TYPED_MAX;
  for (let i = 0; i < n; i++) {
    if (i !== 0) out += ",";
    const v = data[i];
    if (typeof v === "bigint") out += '"' + v + '"';
    else out += v === v && v !== Infinity && v !== -Infinity ? "" + v : "null";
  }
  out += "]}";
}

function writeError(e, depth) {
  const d = depth + 1;
  out += '{"name":' + quote(errorName(e, "Error"));
  writeErrorField(e, "message", d);
  writeErrorField(e, "stack", d);
  let cause;
  let causeThrew = false;
  try {
    cause = e.cause;
  } catch (err) {
    cause = err;
    causeThrew = true;
  }
  if (causeThrew) out += ',"cause":' + thrownAt(cause);
  else if (cause !== undefined) {
    const mark = out.length;
    out += ',"cause":';
    if (!writeValue(cause, d, "cause")) out = out.slice(0, mark);
  }
  let aggregate = false;
  try {
    aggregate = AggErr !== undefined && e instanceof AggErr;
  } catch {
    aggregate = false;
  }
  if (aggregate) {
    out += ',"errors":';
    let errors;
    try {
      errors = e.errors;
    } catch (err) {
      errors = undefined;
      out += thrownAt(err);
    }
    if (errors !== undefined && !writeValue(errors, d, "errors")) out += "null";
  }
  writeProps(e, depth, ",", aggregate ? 2 : 1);
  out += "}";
}

function writeErrorField(e, k, d) {
  out += ',"' + k + '":';
  let v;
  try {
    v = e[k];
  } catch (err) {
    out += thrownAt(err);
    return;
  }
  if (typeof v === "string") out += quote(v);
  else if (!writeValue(v, d, k)) out += '""';
}

/** An error-ish object's name: `name` when it is a non-empty string, unless it is just "Error"
 * while the constructor name is more specific (`class MyErr extends Error {}` -> "MyErr");
 * else the constructor name; else `fallback`. Never throws. */
function errorName(o, fallback) {
  let n;
  let c;
  try {
    n = o.name;
  } catch {
    n = undefined;
  }
  try {
    const k = o.constructor;
    if (typeof k === "function") c = k.name;
  } catch {
    c = undefined;
  }
  const cOk = typeof c === "string" && c !== "";
  if (typeof n === "string" && n !== "") {
    if (n === "Error" && cOk && c !== "Error" && c !== "Object" && c !== "Function") return c;
    return n;
  }
  return cOk && c !== "Object" ? c : fallback;
}

function isErrorObject(o) {
  try {
    if (o instanceof ErrorCtor) return true;
  } catch {
    // A Proxy whose getPrototypeOf throws; fall through to the tag.
  }
  try {
    return apply(objToString, o, []) === "[object Error]";
  } catch {
    return false;
  }
}

/**
 * The error's fields for a span: `{ name, message, stack }`, all strings; never throws.
 * - Errors (instanceof Error or tagged "[object Error]"): name as resolved by errorName
 *   (`err.name`, or the constructor name when `err.name` is just "Error" and the constructor
 *   is more specific), message `err.message` ("" when absent), stack `err.stack` or "".
 * - Other objects: name from `name`/the constructor name, else "Object"; message `err.message`
 *   when it is a string, else toJson(err) cut to 1000 characters; stack `err.stack` or "".
 * - Primitives: name is typeof ("string", "number", ...; "null" for null), message String(v).
 *   Functions: name "function", message "[Function: name]".
 * @param {unknown} err
 * @returns {{ name: string, message: string, stack: string }}
 */
export function errorInfo(err) {
  try {
    const t = typeof err;
    if (t === "object" && err !== null) {
      const isErr = isErrorObject(err);
      const name = errorName(err, isErr ? "Error" : "Object");
      let m;
      try {
        m = err.message;
      } catch {
        m = undefined;
      }
      let message;
      if (typeof m === "string") message = m;
      else if (isErr && m === undefined) message = "";
      else message = toJson(isErr ? m : err, MSG_MAX).slice(0, MSG_MAX);
      let s;
      try {
        s = err.stack;
      } catch {
        s = undefined;
      }
      return { name, message, stack: typeof s === "string" ? s : "" };
    }
    if (t === "function") return { name: "function", message: functionLabel(err), stack: "" };
    let message;
    try {
      message = StringCtor(err);
    } catch {
      message = "";
    }
    return { name: err === null ? "null" : t, message, stack: "" };
  } catch {
    return { name: "Error", message: "[unreadable error]", stack: "" };
  }
}
