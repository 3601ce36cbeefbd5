//! The open-span registry's entries: a span handle's slot (the span while it runs, then its
//! ids), a trace with spans still to come, and the bounded table of span definitions.

use crate::ids::{SpanId, TraceId};
use crate::llm::Stream;
use crate::model::{FinishedSpan, SessionSpec, TraceInfo};
use crate::slab::Slab;
use std::hash::{BuildHasher, Hasher};
use std::rc::Rc;

/// "No parent": start a new trace.
pub const NONE: u32 = 0;
/// The context of an unsampled (or dropped) trace: its children are not recorded either.
pub const NOOP: u32 = u32::MAX;

/// A trace with spans still to come.
pub struct LiveTrace {
    pub info: TraceInfo,
    /// Spans started and not yet ended.
    pub open: u32,
    /// The root span has ended (or this is a continuation of an already-sent trace).
    pub root_done: bool,
    /// The trace record has been handed on.
    pub sent: bool,
    pub spans: Vec<FinishedSpan>,
    /// Captured bytes of `spans` (input, output), for the part rule's byte bound.
    pub held_bytes: usize,
}

/// A span handle's slot: the span while it runs, then (retired) its ids.
pub enum SpanSlot {
    Open(OpenSpan),
    Ended {
        trace: u32,
        trace_id: TraceId,
        span_id: SpanId,
    },
}

pub struct OpenSpan {
    /// Handle of the trace in the trace slab.
    pub trace: u32,
    pub span_id: SpanId,
    pub parent: Option<SpanId>,
    pub def: Rc<Def>,
    pub start_ms: f64,
    pub input: Option<String>,
    pub truncated: bool,
    pub seq: u64,
    pub is_root: bool,
    /// Chunks of a streamed LLM response, when the span is one.
    pub stream: Option<Box<Stream>>,
}

impl SpanSlot {
    pub fn ids(&self, traces: &Slab<LiveTrace>) -> Option<(u32, TraceId, SpanId)> {
        match self {
            SpanSlot::Open(s) => Some((s.trace, traces.get(s.trace)?.info.trace_id, s.span_id)),
            SpanSlot::Ended {
                trace,
                trace_id,
                span_id,
            } => Some((*trace, *trace_id, *span_id)),
        }
    }
}

/// A wrapped function's fixed facts, registered once per wrapper. Open spans hold their own
/// reference, so a definition evicted from the table while they run still names them.
pub struct Def {
    pub name: Rc<str>,
    pub kind: Rc<str>,
    pub metadata: Option<Rc<str>>,
    /// The session of the traces it starts (`trace(fn, { session })`), read once.
    pub session: Option<Rc<SessionSpec>>,
}

/// What makes two definitions the same one: name, kind, metadata and session (as JSON text).
pub type DefKey = (Rc<str>, Rc<str>, Option<Rc<str>>, Option<Rc<str>>);

/// Definitions held at most. Code that puts per-call data in metadata (a request id), a
/// session per request, or generated span names makes a new definition per call; past this
/// the least recently used one is evicted (a wrapper that comes back defines it again).
pub const MAX_DEFS: usize = 4096;
/// ... and at most this many bytes of their texts (a definition's metadata may be up to
/// `maxFieldBytes`); a single larger one is still held, alone.
pub const MAX_DEF_BYTES: usize = 2 << 20;
/// What `start` answers for a definition id the table no longer holds (evicted): not a span
/// handle (those are never 0); the caller defines again and starts once more.
pub const REDEFINE: u32 = 0;

/// Bits of slot index in a definition id; the rest is the slot's generation, so an id kept
/// past its definition's eviction misses (answers [`REDEFINE`]) instead of reaching the
/// definition now in its slot: that takes 2^19 reuses of one slot (about 2e9 new definitions
/// at the default bound) and then a one-in-2^19 match.
const DEF_INDEX_BITS: u32 = 13;
const DEF_INDEX_MASK: u32 = (1 << DEF_INDEX_BITS) - 1;
const DEF_GEN_MASK: u32 = (1 << (32 - DEF_INDEX_BITS)) - 1;
/// Slots at most: keeps every id distinct from `u32::MAX` (NOOP).
const DEF_MAX_SLOTS: usize = DEF_INDEX_MASK as usize - 1;
/// Bytes counted per definition besides its texts (slot, index entry, reference counts).
const DEF_OVERHEAD: usize = 160;

struct DefSlot {
    gen: u32,
    /// Used since the clock hand last passed (a second chance before eviction).
    used: bool,
    entry: Option<(Rc<Def>, DefKey, usize)>,
}

/// The bounded definition table: ids are a slot and a generation; eviction is CLOCK (an
/// approximate least-recently-used that costs a start one store).
pub struct DefTable {
    slots: Vec<DefSlot>,
    free: Vec<u32>,
    index: KeyedTable<DefKey, u32>,
    hand: usize,
    bytes: usize,
    max: usize,
    max_bytes: usize,
    /// Definitions evicted so far (re-creatable facts, not data: a wrapper defines again).
    pub evicted: u64,
}

impl DefTable {
    /// A table of the default bounds ([`MAX_DEFS`], [`MAX_DEF_BYTES`]) hashing with `keys`.
    pub fn new(keys: KeyedHash) -> Self {
        DefTable::bounded(MAX_DEFS, MAX_DEF_BYTES, keys)
    }

    /// A table of at most `max` definitions (at least 1, at most 8190) and `max_bytes`.
    pub fn bounded(max: usize, max_bytes: usize, keys: KeyedHash) -> Self {
        DefTable {
            slots: Vec::new(),
            free: Vec::new(),
            index: KeyedTable::new(keys),
            hand: 0,
            bytes: 0,
            max: max.clamp(1, DEF_MAX_SLOTS),
            max_bytes,
            evicted: 0,
        }
    }

    /// The id of definition `key`, made by `make` when it is not held (evicting to make room).
    pub fn define<E>(
        &mut self,
        key: DefKey,
        make: impl FnOnce(&DefKey) -> Result<Def, E>,
    ) -> Result<u32, E> {
        if let Some(&id) = self.index.get(&key) {
            self.slots[(id & DEF_INDEX_MASK) as usize - 1].used = true;
            return Ok(id);
        }
        let def = Rc::new(make(&key)?);
        let size = DEF_OVERHEAD
            + key.0.len()
            + key.1.len()
            + key.2.as_ref().map_or(0, |m| m.len())
            + key.3.as_ref().map_or(0, |s| s.len());
        while !self.index.is_empty()
            && (self.index.len() >= self.max || self.bytes + size > self.max_bytes)
        {
            self.evict_one();
        }
        let index = match self.free.pop() {
            Some(i) => i as usize,
            None => {
                self.slots.push(DefSlot {
                    gen: 0,
                    used: false,
                    entry: None,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.gen = (slot.gen + 1) & DEF_GEN_MASK;
        slot.used = true;
        let id = (slot.gen << DEF_INDEX_BITS) | (index as u32 + 1);
        slot.entry = Some((def, key.clone(), size));
        self.bytes += size;
        self.index.insert(key, id);
        Ok(id)
    }

    /// Evicts the first definition the clock hand finds unused since its last pass.
    fn evict_one(&mut self) {
        loop {
            let i = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            let slot = &mut self.slots[i];
            if slot.entry.is_none() {
                continue;
            }
            if std::mem::take(&mut slot.used) {
                continue;
            }
            let (_, key, size) = slot.entry.take().expect("checked");
            self.index.remove(&key);
            self.bytes -= size;
            self.free.push(i as u32);
            self.evicted += 1;
            return;
        }
    }

    /// Definition `id` for a span starting now: `Err(REDEFINE)` when it was evicted (define
    /// again), `Err(NOOP)` for an id never given out.
    pub fn start(&mut self, id: u32) -> Result<Rc<Def>, u32> {
        let Some(i) = (id & DEF_INDEX_MASK).checked_sub(1) else {
            return Err(NOOP);
        };
        let Some(slot) = self.slots.get_mut(i as usize) else {
            return Err(NOOP);
        };
        match &slot.entry {
            Some((def, _, _)) if slot.gen == id >> DEF_INDEX_BITS => {
                slot.used = true;
                Ok(def.clone())
            }
            _ => Err(REDEFINE),
        }
    }

    /// The keys its index hashes with.
    pub fn keys(&self) -> &KeyedHash {
        self.index.keys()
    }

    /// Definitions held now.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.index.len()
    }
}

/// SipHash-1-3 with secret keys, for the tables whose keys come from span names, metadata and
/// session ids an attacker may choose (the definition index, the sessions already written):
/// without the keys, colliding texts cannot be computed (hash flooding). In place of std's
/// `RandomState`, whose keys on wasm32-unknown-unknown are two memory addresses (the same in
/// every instance of a build: std has no randomness there) and whose code was 1.7 KB of the
/// .wasm; these keys come from the id generator's random seed ([`KeyedHash::from_seed`]).
#[derive(Clone)]
pub struct KeyedHash {
    k0: u64,
    k1: u64,
}

impl KeyedHash {
    /// Keys derived from `seed` (the 32 random bytes the ids are seeded with) by SipHash
    /// under fixed keys, so they are not the id generator's state itself.
    pub fn from_seed(seed: &[u8]) -> KeyedHash {
        let mut h = KeyedHash {
            k0: 0x6167_656e_7369_6768,
            k1: 0x742d_6465_662d_6b65,
        }
        .build_hasher();
        h.write(seed);
        let k0 = h.finish();
        h.write_u8(1);
        KeyedHash { k0, k1: h.finish() }
    }
}

impl BuildHasher for KeyedHash {
    type Hasher = Sip13;
    fn build_hasher(&self) -> Sip13 {
        let (k0, k1) = (self.k0, self.k1);
        Sip13 {
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f6d,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            tail: 0,
            len: 0,
        }
    }
}

/// SipHash-1-3 (Aumasson and Bernstein; the rounds std's `DefaultHasher` uses) over the bytes
/// written, one at a time into the next little-endian word: texts are short and hashed once
/// per definition or session, and a byte loop is the smallest code.
pub struct Sip13 {
    v: [u64; 4],
    /// The bytes of the word being filled.
    tail: u64,
    /// Bytes written so far.
    len: u64,
}

impl Sip13 {
    fn round(&mut self) {
        let v = &mut self.v;
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    fn compress(&mut self, m: u64) {
        self.v[3] ^= m;
        self.round();
        self.v[0] ^= m;
    }
}

impl Hasher for Sip13 {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.tail |= (b as u64) << (8 * (self.len % 8));
            self.len += 1;
            if self.len.is_multiple_of(8) {
                let m = std::mem::take(&mut self.tail);
                self.compress(m);
            }
        }
    }

    fn finish(&self) -> u64 {
        let mut s = Sip13 { ..*self };
        s.compress(s.tail | s.len << 56);
        s.v[2] ^= 0xff;
        for _ in 0..3 {
            s.round();
        }
        s.v[0] ^ s.v[1] ^ s.v[2] ^ s.v[3]
    }
}

/// A hash table under [`KeyedHash`] for the two tables above (each at most a few thousand
/// keys): open addressing, linear probing, at most half full, deletion by shifting back (no
/// tombstones). Each slot keeps its key's hash, so growing and shifting never hash again. In
/// place of std's `HashMap`/`HashSet` (hashbrown: its control bytes, in-place rehash and two
/// instantiations inlined into their callers were 3.5 KB of the .wasm).
pub struct KeyedTable<K, V> {
    slots: Vec<Option<(u32, K, V)>>,
    len: usize,
    keys: KeyedHash,
}

impl<K: std::hash::Hash + Eq, V> KeyedTable<K, V> {
    pub fn new(keys: KeyedHash) -> Self {
        KeyedTable {
            slots: Vec::new(),
            len: 0,
            keys,
        }
    }

    /// The keys it hashes with.
    pub fn keys(&self) -> &KeyedHash {
        &self.keys
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn hash<Q: std::hash::Hash + ?Sized>(&self, q: &Q) -> u32 {
        self.keys.hash_one(q) as u32
    }

    /// The slot holding `q` (of hash `h`), or the empty slot where it would go; `None` when
    /// there are no slots yet.
    fn find<Q>(&self, h: u32, q: &Q) -> Option<(usize, bool)>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let mask = self.slots.len().checked_sub(1)?;
        let mut i = h as usize & mask;
        loop {
            match &self.slots[i] {
                None => return Some((i, false)),
                Some((kh, k, _)) if *kh == h && k.borrow() == q => return Some((i, true)),
                _ => i = (i + 1) & mask,
            }
        }
    }

    pub fn get<Q>(&self, q: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        match self.find(self.hash(q), q)? {
            (i, true) => self.slots[i].as_ref().map(|(_, _, v)| v),
            _ => None,
        }
    }

    pub fn contains<Q>(&self, q: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.get(q).is_some()
    }

    /// Inserts `k` (replacing the value of an equal key).
    pub fn insert(&mut self, k: K, v: V) {
        if (self.len + 1) * 2 > self.slots.len() {
            let old = std::mem::take(&mut self.slots);
            self.slots.resize_with((old.len() * 2).max(16), || None);
            let mask = self.slots.len() - 1;
            for (h, k, v) in old.into_iter().flatten() {
                let mut i = h as usize & mask;
                while self.slots[i].is_some() {
                    i = (i + 1) & mask;
                }
                self.slots[i] = Some((h, k, v));
            }
        }
        let h = self.hash(&k);
        let (i, held) = self.find(h, &k).expect("slots");
        self.len += usize::from(!held);
        self.slots[i] = Some((h, k, v));
    }

    /// Removes `q`; the keys after it in its probe run move back to close the gap.
    pub fn remove<Q>(&mut self, q: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let (mut hole, true) = self.find(self.hash(q), q)? else {
            return None;
        };
        let (_, _, v) = self.slots[hole].take()?;
        self.len -= 1;
        let mask = self.slots.len() - 1;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let Some((h, _, _)) = &self.slots[j] else {
                return Some(v);
            };
            // A key may move back to the hole unless its home lies after the hole.
            if (j.wrapping_sub(*h as usize) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.slots[hole] = self.slots[j].take();
                hole = j;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, metadata: Option<&str>) -> DefKey {
        (name.into(), "span".into(), metadata.map(Into::into), None)
    }

    fn keys() -> KeyedHash {
        KeyedHash::from_seed(b"registry tests")
    }

    fn def(k: &DefKey) -> Result<Def, ()> {
        Ok(Def {
            name: k.0.clone(),
            kind: k.1.clone(),
            metadata: k.2.clone(),
            session: None,
        })
    }

    #[test]
    fn the_bound_holds_under_a_hundred_thousand_definitions() {
        let mut t = DefTable::new(keys());
        let mut hot = t.define(key("hot", None), def).unwrap();
        let mut ids = std::collections::HashSet::new();
        for i in 0..100_000 {
            let id = t
                .define(key("req", Some(&format!("{{\"id\":{i}}}"))), def)
                .unwrap();
            assert!(ids.insert(id), "an id given out twice: {id}");
            assert!(t.len() <= MAX_DEFS && t.bytes <= MAX_DEF_BYTES);
            let mut hot_now = t.start(hot);
            if hot_now.is_err() {
                // Once at most: the sweep when the table first filled (see HACKING.md).
                assert_eq!(i, MAX_DEFS - 1);
                hot = t.define(key("hot", None), def).unwrap();
                hot_now = t.start(hot);
            }
            assert_eq!(&*hot_now.unwrap().name, "hot");
        }
        assert_eq!(t.len(), MAX_DEFS);
        assert_eq!(t.evicted, 100_000 + 2 - MAX_DEFS as u64);
        assert_eq!(
            t.index.len(),
            t.slots.iter().filter(|s| s.entry.is_some()).count()
        );
    }

    #[test]
    fn an_evicted_id_answers_redefine_and_never_reaches_the_new_definition() {
        let mut t = DefTable::bounded(2, usize::MAX, keys());
        let a = t.define(key("a", Some("{\"v\":1}")), def).unwrap();
        let held = t.start(a).unwrap();
        t.define(key("b", None), def).unwrap();
        let c = t.define(key("c", None), def).unwrap();
        assert_eq!(t.evicted, 1);
        assert_eq!(c & DEF_INDEX_MASK, a & DEF_INDEX_MASK, "c took a's slot");
        assert_eq!(t.start(a).err(), Some(REDEFINE));
        // The open span's reference still names its own definition.
        assert_eq!(
            (&*held.name, held.metadata.as_deref()),
            ("a", Some("{\"v\":1}"))
        );
        let again = t.define(key("a", Some("{\"v\":1}")), def).unwrap();
        assert_ne!(again, a);
        assert_eq!(&*t.start(again).unwrap().name, "a");
        assert_eq!(t.start(0).err(), Some(NOOP));
        assert_eq!(t.start(NOOP).err(), Some(NOOP));
        assert_eq!(
            t.start(DEF_INDEX_MASK - 1).err(),
            Some(NOOP),
            "a slot never made"
        );
    }

    #[test]
    fn the_hash_is_siphash_1_3_over_the_bytes_written() {
        // std's DefaultHasher::new() is SipHash-1-3 with both keys zero (its algorithm is not
        // promised: this fails loudly if it changes, and then needs another reference).
        let zero = KeyedHash { k0: 0, k1: 0 };
        let mut text = Vec::new();
        for i in 0..70u8 {
            let mut ours = zero.build_hasher();
            let mut std = std::hash::DefaultHasher::new();
            // Split writes: the hash is of the bytes, wherever the writes split them.
            let (a, b) = text.split_at(text.len() / 3);
            ours.write(a);
            ours.write(b);
            std.write(&text);
            assert_eq!(ours.finish(), std.finish(), "{} bytes", text.len());
            text.push(i.wrapping_mul(37));
        }
        // Keyed: other keys, other hashes.
        let (a, b) = (
            KeyedHash::from_seed(&[1; 32]),
            KeyedHash::from_seed(&[2; 32]),
        );
        assert_ne!(a.hash_one("name"), b.hash_one("name"));
        assert_eq!(
            a.hash_one("name"),
            KeyedHash::from_seed(&[1; 32]).hash_one("name")
        );
    }

    #[test]
    fn the_table_agrees_with_std_s_hash_map_under_inserts_and_removes() {
        let mut ours: KeyedTable<Rc<str>, u32> = KeyedTable::new(keys());
        let mut std = std::collections::HashMap::new();
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..40_000u32 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            // Few keys, so removals land in long probe runs and keys come back.
            let k = format!("k{}", rng % 300);
            if rng >> 60 < 7 {
                assert_eq!(ours.remove(k.as_str()), std.remove(&k), "remove {k}");
            } else {
                ours.insert(k.as_str().into(), i);
                std.insert(k.clone(), i);
            }
            assert_eq!(ours.len(), std.len());
            if i % 97 == 0 {
                for n in 0..300 {
                    let k = format!("k{n}");
                    assert_eq!(ours.get(k.as_str()), std.get(&k), "get {k}");
                }
            }
        }
    }

    #[test]
    fn bytes_are_bounded_and_a_failed_make_changes_nothing() {
        let mut t = DefTable::bounded(100, 3 * (DEF_OVERHEAD + 1000), keys());
        for i in 0..10 {
            let m = format!("{i:0>996}");
            t.define(key("x", Some(&m)), def).unwrap();
            assert!(t.len() <= 3 && t.bytes <= 3 * (DEF_OVERHEAD + 1000));
        }
        let before = (t.len(), t.bytes, t.evicted);
        assert!(t.define(key("bad", None), |_| Err::<Def, ()>(())).is_err());
        assert_eq!((t.len(), t.bytes, t.evicted), before);
    }
}
