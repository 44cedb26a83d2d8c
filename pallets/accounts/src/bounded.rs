//! A vector with a length bound checked on every insertion and on decode, so
//! nothing this pallet stores can grow without limit.

use alloc::vec::Vec;
use codec::{Compact, Decode, DecodeWithMemTracking, Encode, Input, MaxEncodedLen, Output};
use scale_info::TypeInfo;

/// At most `N` items; encodes exactly as `Vec<T>`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BoundedVec<T, const N: u32>(Vec<T>);

impl<T, const N: u32> Default for BoundedVec<T, N> {
    fn default() -> Self {
        BoundedVec(Vec::new())
    }
}

impl<T, const N: u32> BoundedVec<T, N> {
    /// The bound.
    pub const BOUND: u32 = N;

    /// Wraps `v` if it is within the bound; gives it back otherwise.
    pub fn try_from_vec(v: Vec<T>) -> Result<Self, Vec<T>> {
        if v.len() <= N as usize {
            Ok(BoundedVec(v))
        } else {
            Err(v)
        }
    }

    /// Inserts at `index` if there is room; gives the item back otherwise.
    /// `index` must be at most `len()` (as `Vec::insert`); out of range it
    /// appends.
    pub fn try_insert(&mut self, index: usize, item: T) -> Result<(), T> {
        if self.0.len() >= N as usize {
            return Err(item);
        }
        let at = index.min(self.0.len());
        self.0.insert(at, item);
        Ok(())
    }

    /// Appends if there is room; gives the item back otherwise.
    pub fn try_push(&mut self, item: T) -> Result<(), T> {
        let len = self.0.len();
        self.try_insert(len, item)
    }

    /// Removes and returns the item at `index`, if any.
    pub fn remove(&mut self, index: usize) -> Option<T> {
        (index < self.0.len()).then(|| self.0.remove(index))
    }

    /// Keeps the items for which `f` holds.
    pub fn retain(&mut self, f: impl FnMut(&T) -> bool) {
        self.0.retain(f)
    }

    /// Mutable access to one item (the length cannot change through it).
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.0.get_mut(index)
    }

    /// The items.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// The items, unbounded.
    pub fn into_inner(self) -> Vec<T> {
        self.0
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it has no items.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T, const N: u32> core::ops::Deref for BoundedVec<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: Encode, const N: u32> Encode for BoundedVec<T, N> {
    fn size_hint(&self) -> usize {
        self.0.size_hint()
    }
    fn encode_to<O: Output + ?Sized>(&self, dest: &mut O) {
        self.0.encode_to(dest)
    }
}

impl<T: Encode, const N: u32> codec::EncodeLike for BoundedVec<T, N> {}
impl<T: Encode, const N: u32> codec::EncodeLike<Vec<T>> for BoundedVec<T, N> {}

impl<T: Decode, const N: u32> Decode for BoundedVec<T, N> {
    fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
        let len = <Compact<u32>>::decode(input)?.0;
        if len > N {
            return Err("BoundedVec longer than its bound".into());
        }
        let mut v = Vec::with_capacity(len as usize);
        for _ in 0..len {
            v.push(T::decode(input)?);
        }
        Ok(BoundedVec(v))
    }
}

impl<T: Decode, const N: u32> DecodeWithMemTracking for BoundedVec<T, N> {}

impl<T: MaxEncodedLen, const N: u32> MaxEncodedLen for BoundedVec<T, N> {
    fn max_encoded_len() -> usize {
        Compact(N)
            .encoded_size()
            .saturating_add(T::max_encoded_len().saturating_mul(N as usize))
    }
}

/// Described as the `Vec<T>` it encodes as.
impl<T: TypeInfo + 'static, const N: u32> TypeInfo for BoundedVec<T, N> {
    type Identity = Vec<T>;
    fn type_info() -> scale_info::Type {
        Vec::<T>::type_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_holds_on_insert_and_decode() {
        let mut b = BoundedVec::<u8, 2>::default();
        assert_eq!(b.try_push(1), Ok(()));
        assert_eq!(b.try_insert(0, 0), Ok(()));
        assert_eq!(b.try_push(2), Err(2));
        assert_eq!(b.as_slice(), &[0, 1]);
        assert_eq!(b.encode(), vec![0u8, 1].encode());
        assert_eq!(
            BoundedVec::<u8, 2>::decode(&mut &vec![5u8, 6].encode()[..]).unwrap(),
            BoundedVec(vec![5, 6])
        );
        assert!(BoundedVec::<u8, 2>::decode(&mut &vec![5u8, 6, 7].encode()[..]).is_err());
        assert!(BoundedVec::<u8, 2>::try_from_vec(vec![1, 2, 3]).is_err());
        assert_eq!(b.remove(5), None);
        assert_eq!(b.remove(0), Some(0));
        assert_eq!(BoundedVec::<u32, 250>::max_encoded_len(), 2 + 1000);
    }
}
