//! The block consensus carries: an [`engine::Block`] as its canonical borsh bytes, plus its digest.
//!
//! The consensus digest of a block is [`engine::Block::hash`] (blake3, 32 bytes), so the hash the node
//! stores and serves is the one validators sign. The digest is always recomputed from the block; a decoded
//! block never trusts a digest or a length someone sent, and a non-canonical encoding is refused, so one
//! block has exactly one encoding on the wire.

use bytes::{Buf, BufMut, Bytes};
use commonware_codec::{EncodeSize, Error as CodecError, RangeCfg, Read, Write};
use commonware_consensus::{types::Height, Heightable};
use commonware_cryptography::{blake3, Digestible};
use engine::Block;
use types::Hash;

/// The digest validators vote on: [`engine::Block::hash`] as commonware's blake3 digest.
pub type Digest = blake3::Digest;

/// The largest encoded block accepted from a peer (the codec refuses longer ones before decoding).
pub const BLOCK_BYTES_MAX: usize = 8 << 20;

/// An [`engine::Block`] with its borsh bytes and digest computed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBlock {
    inner: Block,
    /// `borsh(inner)`: encoded once here, written many times by broadcast, marshal and the archives.
    bytes: Bytes,
    digest: Digest,
}

impl ChainBlock {
    /// Wrap `inner`, computing its encoding and its digest.
    pub fn new(inner: Block) -> ChainBlock {
        let bytes = Bytes::from(borsh::to_vec(&inner).expect("encoding a block into a Vec cannot fail"));
        let digest = to_digest(inner.hash());
        ChainBlock { inner, bytes, digest }
    }

    /// The engine's block.
    pub fn block(&self) -> &Block {
        &self.inner
    }

    /// The block's hash as the engine and the store name it.
    pub fn hash(&self) -> Hash {
        Hash(self.digest.0)
    }
}

/// Our hash as a consensus digest (same 32 bytes).
pub fn to_digest(hash: Hash) -> Digest {
    blake3::Digest::from(hash.0)
}

impl Write for ChainBlock {
    fn write(&self, buf: &mut impl BufMut) {
        self.bytes.write(buf);
    }
}

impl EncodeSize for ChainBlock {
    fn encode_size(&self) -> usize {
        self.bytes.encode_size()
    }
}

impl Read for ChainBlock {
    /// The largest accepted encoding in bytes ([`BLOCK_BYTES_MAX`] in the validator).
    type Cfg = usize;

    fn read_cfg(buf: &mut impl Buf, max: &usize) -> Result<Self, CodecError> {
        let bytes = Bytes::read_cfg(buf, &RangeCfg::from(0..=*max))?;
        let inner: Block =
            borsh::from_slice(&bytes).map_err(|_| CodecError::Invalid("ChainBlock", "not a borsh block"))?;
        let block = ChainBlock::new(inner);
        if block.bytes != bytes {
            return Err(CodecError::Invalid("ChainBlock", "non-canonical encoding"));
        }
        Ok(block)
    }
}

impl Digestible for ChainBlock {
    type Digest = Digest;
    fn digest(&self) -> Digest {
        self.digest
    }
}

impl Heightable for ChainBlock {
    fn height(&self) -> Height {
        Height::new(self.inner.height.0)
    }
}

impl commonware_consensus::Block for ChainBlock {
    fn parent(&self) -> Digest {
        to_digest(self.inner.parent_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::{Decode, Encode};
    use types::Height as EngineHeight;

    fn sample() -> ChainBlock {
        ChainBlock::new(Block {
            height: EngineHeight(7),
            parent_hash: Hash([3; 32]),
            txs: Vec::new(),
            state_root: Hash([9; 32]),
            proposer: None,
        })
    }

    #[test]
    fn a_block_round_trips_with_its_digest() {
        let block = sample();
        let encoded = block.encode();
        assert_eq!(encoded.len(), block.encode_size());
        let decoded = ChainBlock::decode_cfg(encoded, &BLOCK_BYTES_MAX).expect("decodes");
        assert_eq!(decoded, block);
        assert_eq!(decoded.digest(), to_digest(block.block().hash()));
        assert_eq!(decoded.height(), Height::new(7));
        assert_eq!(commonware_consensus::Block::parent(&decoded), to_digest(Hash([3; 32])));
    }

    #[test]
    fn a_tampered_encoding_changes_the_digest_or_fails() {
        let block = sample();
        let encoded = block.encode().to_vec();
        for i in 0..encoded.len() {
            let mut bad = encoded.clone();
            bad[i] ^= 0x01;
            if let Ok(decoded) = ChainBlock::decode_cfg(bad.as_slice(), &BLOCK_BYTES_MAX) {
                assert_ne!(decoded.digest(), block.digest(), "byte {i} flipped yet the digest is unchanged");
            }
        }
    }

    #[test]
    fn an_oversized_block_is_refused_before_decoding() {
        let encoded = sample().encode();
        assert!(ChainBlock::decode_cfg(encoded, &8).is_err());
    }
}
