//! Forkable maps: [`OverlayMap`] is a map whose clone costs O(changes), not O(entries).
//!
//! The entries live in a shared base (`Arc<B>`) and a private delta (`BTreeMap<K, Option<V>>`, where `None`
//! is a deletion). While a map is the only owner of its base, every operation goes straight to the base:
//! the steady state pays one uniqueness check per write and nothing else. Cloning shares the base; from
//! then on both copies write into their own deltas, so neither ever sees the other's changes. When the
//! other copies are gone, [`OverlayMap::flatten`] folds the delta back into the base in O(delta).
//!
//! This is how the engine forks: a validator executes a proposed block on a clone of its committed state
//! and then either keeps the clone (commit) or drops it; the committed state is never written.
//!
//! Invariants: reads through any copy equal reads of a plain map that received the same operations since
//! the copy was made (checked against `BTreeMap` by the property tests below); ordered iteration (bases that
//! are `BTreeMap`s) yields keys in ascending order, exactly as `BTreeMap` does, so nothing that reaches an
//! output changes order.

use std::collections::btree_map;
use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::RangeBounds;
use std::sync::Arc;

/// The map an overlay keeps as its shared base.
pub trait BaseMap<K, V>: Default {
    /// The entries in the base's own order (sorted for `BTreeMap`).
    type Iter<'a>: Iterator<Item = (&'a K, &'a V)>
    where
        Self: 'a,
        K: 'a,
        V: 'a;
    fn get(&self, key: &K) -> Option<&V>;
    fn get_mut(&mut self, key: &K) -> Option<&mut V>;
    fn insert(&mut self, key: K, value: V) -> Option<V>;
    fn remove(&mut self, key: &K) -> Option<V>;
    /// The value at `key`, inserted with `make` first if absent (one lookup, as `entry().or_insert_with`),
    /// and whether it was inserted.
    fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> (&mut V, bool);
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn iter(&self) -> Self::Iter<'_>;
}

impl<K: Ord, V> BaseMap<K, V> for BTreeMap<K, V> {
    type Iter<'a>
        = btree_map::Iter<'a, K, V>
    where
        K: 'a,
        V: 'a;
    fn get(&self, key: &K) -> Option<&V> {
        BTreeMap::get(self, key)
    }
    fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        BTreeMap::get_mut(self, key)
    }
    fn insert(&mut self, key: K, value: V) -> Option<V> {
        BTreeMap::insert(self, key, value)
    }
    fn remove(&mut self, key: &K) -> Option<V> {
        BTreeMap::remove(self, key)
    }
    fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> (&mut V, bool) {
        match self.entry(key) {
            btree_map::Entry::Occupied(e) => (e.into_mut(), false),
            btree_map::Entry::Vacant(e) => (e.insert(make()), true),
        }
    }
    fn len(&self) -> usize {
        BTreeMap::len(self)
    }
    fn iter(&self) -> Self::Iter<'_> {
        BTreeMap::iter(self)
    }
}

/// A map with O(changes) clones: a shared base and a private delta (see the module documentation).
pub struct OverlayMap<K, V, B = BTreeMap<K, V>> {
    base: Arc<B>,
    delta: BTreeMap<K, Option<V>>,
    len: usize,
}

impl<K, V, B: BaseMap<K, V>> Default for OverlayMap<K, V, B> {
    fn default() -> Self {
        OverlayMap { base: Arc::new(B::default()), delta: BTreeMap::new(), len: 0 }
    }
}

impl<K: Clone, V: Clone, B> Clone for OverlayMap<K, V, B> {
    /// Shares the base: O(delta), and the delta is empty after [`OverlayMap::flatten`].
    fn clone(&self) -> Self {
        OverlayMap { base: Arc::clone(&self.base), delta: self.delta.clone(), len: self.len }
    }
}

impl<K, V, B: BaseMap<K, V>> From<B> for OverlayMap<K, V, B> {
    fn from(base: B) -> Self {
        let len = base.len();
        OverlayMap { base: Arc::new(base), delta: BTreeMap::new(), len }
    }
}

impl<K: Ord + Clone, V: Clone, B: BaseMap<K, V> + Clone> OverlayMap<K, V, B> {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Entries changed since the base was last shared (what a clone copies).
    pub fn delta_len(&self) -> usize {
        self.delta.len()
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        if self.delta.is_empty() {
            return self.base.get(key);
        }
        match self.delta.get(key) {
            Some(change) => change.as_ref(),
            None => self.base.get(key),
        }
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        if self.delta.contains_key(key) {
            return self.delta.get_mut(key).and_then(Option::as_mut);
        }
        // `strong_count` first: a returned borrow out of an `if let` would hold `self.base` below.
        if Arc::strong_count(&self.base) == 1 {
            return Arc::get_mut(&mut self.base).expect("the only owner, and no weak references exist").get_mut(key);
        }
        // Shared base: copy the entry into the delta and change the copy.
        let value = self.base.get(key)?.clone();
        self.delta.insert(key.clone(), Some(value));
        self.delta.get_mut(key).and_then(Option::as_mut)
    }

    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if !self.delta.contains_key(&key) {
            if let Some(base) = Arc::get_mut(&mut self.base) {
                let old = base.insert(key, value);
                if old.is_none() {
                    self.len += 1;
                }
                return old;
            }
        }
        let old = match self.delta.insert(key.clone(), Some(value)) {
            Some(change) => change,
            None => self.base.get(&key).cloned(),
        };
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        if !self.delta.contains_key(key) {
            if let Some(base) = Arc::get_mut(&mut self.base) {
                let old = base.remove(key);
                if old.is_some() {
                    self.len -= 1;
                }
                return old;
            }
        }
        let in_base = self.base.get(key).is_some();
        let old = if in_base {
            // A deletion must shadow the base's entry.
            match self.delta.insert(key.clone(), None) {
                Some(change) => change,
                None => self.base.get(key).cloned(),
            }
        } else {
            self.delta.remove(key).flatten()
        };
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    /// The value at `key`, inserted with `make` first if absent.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        if Arc::strong_count(&self.base) == 1 && !self.delta.contains_key(&key) {
            let base = Arc::get_mut(&mut self.base).expect("the only owner, and no weak references exist");
            let (value, inserted) = base.get_or_insert_with(key, make);
            self.len += usize::from(inserted);
            return value;
        }
        if !self.contains_key(&key) {
            self.insert(key.clone(), make());
        }
        self.get_mut(&key).expect("the key was just inserted")
    }

    /// Remove every entry (the base is replaced, not copied).
    pub fn clear(&mut self) {
        self.base = Arc::new(B::default());
        self.delta.clear();
        self.len = 0;
    }

    /// Fold the delta into the base if this map is the base's only owner: O(delta). A no-op otherwise
    /// (the delta stays correct; it is folded by a later call once the other copies are gone).
    pub fn flatten(&mut self) {
        if self.delta.is_empty() {
            return;
        }
        if let Some(base) = Arc::get_mut(&mut self.base) {
            for (key, change) in std::mem::take(&mut self.delta) {
                match change {
                    Some(value) => base.insert(key, value),
                    None => base.remove(&key),
                };
            }
        }
    }

    /// A copy that shares nothing with this map: O(entries). For measurements and tests, not for forks.
    pub fn deep_clone(&self) -> Self
    where
        B: FromIterator<(K, V)>,
    {
        let base: B = self.iter_unordered().map(|(k, v)| (k.clone(), v.clone())).collect();
        OverlayMap { base: Arc::new(base), delta: BTreeMap::new(), len: self.len }
    }

    /// Every entry, in no particular order (the base's order, then the delta's changes).
    pub fn iter_unordered(&self) -> impl Iterator<Item = (&K, &V)> {
        let delta = &self.delta;
        let base = self.base.iter().filter(move |(k, _)| delta.is_empty() || !delta.contains_key(k));
        base.chain(self.delta.iter().filter_map(|(k, change)| change.as_ref().map(|v| (k, v))))
    }
}

/// Ordered reads: with a `BTreeMap` base, iteration merges base and delta in key order.
impl<K: Ord + Clone, V: Clone> OverlayMap<K, V, BTreeMap<K, V>> {
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter { base: self.base.iter().peekable(), delta: self.delta.iter().peekable() }
    }
    pub fn range<R: RangeBounds<K> + Clone>(
        &self,
        range: R,
    ) -> Iter<'_, K, V, btree_map::Range<'_, K, V>, btree_map::Range<'_, K, Option<V>>> {
        Iter { base: self.base.range(range.clone()).peekable(), delta: self.delta.range(range).peekable() }
    }
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.iter().next()
    }
    pub fn pop_first(&mut self) -> Option<(K, V)> {
        let key = self.first_key_value()?.0.clone();
        let value = self.remove(&key).expect("the first key is present");
        Some((key, value))
    }
    /// Every key in order, leaving the map empty.
    pub fn into_keys(self) -> impl Iterator<Item = K> {
        self.keys().cloned().collect::<Vec<K>>().into_iter()
    }
}

/// Entries of an ordered overlay in ascending key order.
pub struct Iter<'a, K: 'a, V: 'a, I = btree_map::Iter<'a, K, V>, D = btree_map::Iter<'a, K, Option<V>>>
where
    I: Iterator<Item = (&'a K, &'a V)>,
    D: Iterator<Item = (&'a K, &'a Option<V>)>,
{
    base: Peekable<I>,
    delta: Peekable<D>,
}

impl<'a, K: Ord + 'a, V: 'a, I, D> Iterator for Iter<'a, K, V, I, D>
where
    I: Iterator<Item = (&'a K, &'a V)>,
    D: Iterator<Item = (&'a K, &'a Option<V>)>,
{
    type Item = (&'a K, &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let order = match (self.base.peek(), self.delta.peek()) {
                (None, None) => return None,
                (Some(_), None) => return self.base.next(),
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some((b, _)), Some((d, _))) => b.cmp(d),
            };
            match order {
                std::cmp::Ordering::Less => return self.base.next(),
                std::cmp::Ordering::Equal => {
                    self.base.next();
                }
                std::cmp::Ordering::Greater => {}
            }
            let (key, change) = self.delta.next().expect("peeked");
            if let Some(value) = change {
                return Some((key, value));
            }
        }
    }
}

impl<'a, K: Ord + Clone, V: Clone> IntoIterator for &'a OverlayMap<K, V, BTreeMap<K, V>> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// `map[&key]`, which panics when the key is absent, as `BTreeMap`'s does.
impl<K: Ord + Clone, V: Clone, B: BaseMap<K, V> + Clone> std::ops::Index<&K> for OverlayMap<K, V, B> {
    type Output = V;
    fn index(&self, key: &K) -> &V {
        self.get(key).expect("no entry for the key in the overlay map")
    }
}

impl<K: Ord + Clone, V: Clone> FromIterator<(K, V)> for OverlayMap<K, V, BTreeMap<K, V>> {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        OverlayMap::from(iter.into_iter().collect::<BTreeMap<K, V>>())
    }
}

impl<K: Ord + Clone, V: Clone + PartialEq> PartialEq for OverlayMap<K, V, BTreeMap<K, V>> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}
impl<K: Ord + Clone, V: Clone + Eq> Eq for OverlayMap<K, V, BTreeMap<K, V>> {}

/// Entries in key order, whatever the base.
impl<K: Ord + Clone + std::fmt::Debug, V: Clone + std::fmt::Debug, B: BaseMap<K, V> + Clone> std::fmt::Debug
    for OverlayMap<K, V, B>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut entries: Vec<(&K, &V)> = self.iter_unordered().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        f.debug_map().entries(entries).finish()
    }
}

impl<'a, K: 'a, V: 'a, I, D> std::fmt::Debug for Iter<'a, K, V, I, D>
where
    I: Iterator<Item = (&'a K, &'a V)>,
    D: Iterator<Item = (&'a K, &'a Option<V>)>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("overlay::Iter")
    }
}

/// Encoded exactly as the `BTreeMap` with the same entries (length, then entries in key order), so
/// snapshots and state roots do not change when a map becomes an overlay.
impl<K: Ord + Clone + borsh::BorshSerialize, V: Clone + borsh::BorshSerialize> borsh::BorshSerialize
    for OverlayMap<K, V, BTreeMap<K, V>>
{
    fn serialize<W: std::io::Write>(&self, writer: &mut W) -> std::io::Result<()> {
        let len = u32::try_from(self.len).map_err(|_| std::io::Error::other("map longer than u32::MAX"))?;
        len.serialize(writer)?;
        for (k, v) in self.iter() {
            k.serialize(writer)?;
            v.serialize(writer)?;
        }
        Ok(())
    }
}

impl<K: Ord + Clone + borsh::BorshDeserialize, V: Clone + borsh::BorshDeserialize> borsh::BorshDeserialize
    for OverlayMap<K, V, BTreeMap<K, V>>
{
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        Ok(OverlayMap::from(BTreeMap::<K, V>::deserialize_reader(reader)?))
    }
}

impl<K: Ord + Clone + serde::Serialize, V: Clone + serde::Serialize> serde::Serialize
    for OverlayMap<K, V, BTreeMap<K, V>>
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de, K: Ord + Clone + serde::Deserialize<'de>, V: Clone + serde::Deserialize<'de>> serde::Deserialize<'de>
    for OverlayMap<K, V, BTreeMap<K, V>>
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(OverlayMap::from(BTreeMap::<K, V>::deserialize(deserializer)?))
    }
}

/// Described as the `BTreeMap` it serializes as.
impl<K: schemars::JsonSchema, V: schemars::JsonSchema> schemars::JsonSchema for OverlayMap<K, V, BTreeMap<K, V>> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        <BTreeMap<K, V> as schemars::JsonSchema>::schema_name()
    }
    fn inline_schema() -> bool {
        <BTreeMap<K, V> as schemars::JsonSchema>::inline_schema()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <BTreeMap<K, V> as schemars::JsonSchema>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u16),
        Remove(u8),
        Mutate(u8, u16),
        /// Clone the map; later operations go to the clone or the original (by the flag).
        Fork,
        /// Drop the other copy and flatten the survivor (a commit, or dropping a fork).
        Settle(bool),
        /// Drop the fork without flattening: the original owns its base alone again while its delta is
        /// not yet folded (the engine between a dropped fork and its next block's end).
        DropFork,
        PopFirst,
        Upsert(u8, u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..24, any::<u16>()).prop_map(|(k, v)| Op::Insert(k, v)),
            2 => (0u8..24).prop_map(Op::Remove),
            2 => (0u8..24, any::<u16>()).prop_map(|(k, v)| Op::Mutate(k, v)),
            1 => Just(Op::Fork),
            1 => any::<bool>().prop_map(Op::Settle),
            1 => Just(Op::DropFork),
            1 => Just(Op::PopFirst),
            2 => (0u8..24, any::<u16>()).prop_map(|(k, v)| Op::Upsert(k, v)),
        ]
    }

    /// A map and its reference model; `other` is a fork and its own model, when there is one.
    type Pair = (OverlayMap<u8, u16>, BTreeMap<u8, u16>);

    fn apply(pair: &mut Pair, op: &Op) {
        let (map, model) = pair;
        match *op {
            Op::Insert(k, v) => assert_eq!(map.insert(k, v), model.insert(k, v)),
            Op::Remove(k) => assert_eq!(map.remove(&k), model.remove(&k)),
            Op::Mutate(k, v) => {
                let got = map.get_mut(&k).map(|x| std::mem::replace(x, v));
                let want = model.get_mut(&k).map(|x| std::mem::replace(x, v));
                assert_eq!(got, want);
            }
            Op::PopFirst => assert_eq!(map.pop_first(), model.pop_first()),
            Op::Upsert(k, v) => {
                let got = map.get_or_insert_with(k, || v);
                *got = got.wrapping_add(1);
                let want = model.entry(k).or_insert(v);
                *want = want.wrapping_add(1);
                assert_eq!(*got, *want);
            }
            Op::Fork | Op::Settle(_) | Op::DropFork => unreachable!("handled by the driver"),
        }
    }

    fn check(pair: &Pair) {
        let (map, model) = pair;
        assert_eq!(map.len(), model.len());
        assert!(map.iter().eq(model.iter()), "ordered iteration");
        let mut unordered: Vec<_> = map.iter_unordered().collect();
        unordered.sort();
        assert!(unordered.into_iter().eq(model.iter()));
        for k in 0..24u8 {
            assert_eq!(map.get(&k), model.get(&k));
        }
        assert!(map.range(5..=17).eq(model.range(5..=17)));
        assert_eq!(borsh::to_vec(map).expect("encode"), borsh::to_vec(model).expect("encode"));
    }

    proptest! {
        /// Any interleaving of writes to a map and its forks reads exactly like independent plain maps.
        #[test]
        fn forks_read_like_independent_maps(ops in proptest::collection::vec((op(), any::<bool>()), 1..120)) {
            let mut main: Pair = (OverlayMap::new(), BTreeMap::new());
            let mut fork: Option<Pair> = None;
            for (op, on_fork) in &ops {
                match op {
                    Op::Fork => fork = Some((main.0.clone(), main.1.clone())),
                    Op::DropFork => fork = None,
                    Op::Settle(keep_fork) => {
                        if let Some(f) = fork.take() {
                            if *keep_fork {
                                main = f;
                            }
                        }
                        main.0.flatten();
                        prop_assert_eq!(main.0.delta_len(), 0, "a sole owner folds its delta");
                    }
                    _ => match (&mut fork, on_fork) {
                        (Some(f), true) => apply(f, op),
                        _ => apply(&mut main, op),
                    },
                }
                check(&main);
                if let Some(f) = &fork {
                    check(f);
                }
            }
        }
    }

    #[test]
    fn a_clone_of_a_flattened_map_copies_nothing() {
        let mut map: OverlayMap<u32, u32> = (0..10_000).map(|i| (i, i)).collect();
        let mut fork = map.clone();
        assert_eq!(fork.delta_len(), 0);
        *fork.get_mut(&7).expect("present") = 70;
        fork.remove(&8);
        assert_eq!((fork.delta_len(), map.delta_len()), (2, 0));
        assert_eq!((map.get(&7), map.get(&8)), (Some(&7), Some(&8)), "the original never sees the fork");
        map = fork;
        map.flatten();
        assert_eq!((map.delta_len(), map.get(&7), map.get(&8), map.len()), (0, Some(&70), None, 9_999));
    }
}
