//! Transaction gossip on its own p2p channel ([`crate::CHANNEL_TXS`]): a validator sends the transactions
//! it admitted to every other validator, once.
//!
//! A message is `borsh(Vec<SignedTx>)`, at most [`GOSSIP_BYTES_MAX`] bytes and [`GOSSIP_TXS_MAX`]
//! transactions. A receiver decodes with those caps, checks each signature against its chain id with
//! [`engine::verify_one`] (the same check as the node's door) and admits only the valid ones to its
//! [`TxSource`]. It never forwards: validators are fully connected, so one hop reaches all of them and no
//! message loops.

use crate::app::TxSource;
use commonware_cryptography::ed25519::PublicKey;
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::{Metrics, Spawner};
use engine::{verify_one, SignedTx};
use futures::{channel::mpsc, StreamExt};
use std::sync::Arc;

/// The largest gossip message sent or accepted.
pub const GOSSIP_BYTES_MAX: usize = 1 << 20;

/// The most transactions in one gossip message.
pub const GOSSIP_TXS_MAX: usize = 1024;

/// Why a gossip message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GossipError {
    #[error("gossip message of {got} bytes, the limit is {GOSSIP_BYTES_MAX}")]
    TooLarge { got: usize },
    #[error("gossip message is not a borsh list of transactions")]
    Malformed,
    #[error("gossip message carries {got} transactions, the limit is {GOSSIP_TXS_MAX}")]
    TooManyTxs { got: usize },
    #[error("the gossip task has stopped")]
    Stopped,
}

impl GossipError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            GossipError::TooLarge { .. } => "gossip_too_large",
            GossipError::Malformed => "gossip_malformed",
            GossipError::TooManyTxs { .. } => "gossip_too_many_txs",
            GossipError::Stopped => "gossip_stopped",
        }
    }
}

/// The sending side: hand it transactions this validator admitted itself.
#[derive(Debug, Clone)]
pub struct Gossip {
    outbox: mpsc::UnboundedSender<Vec<SignedTx>>,
}

impl Gossip {
    /// Send `txs` to every other validator (in the background, split to fit the caps).
    pub fn submit(&self, txs: Vec<SignedTx>) -> Result<(), GossipError> {
        self.outbox.unbounded_send(txs).map_err(|_| GossipError::Stopped)
    }
}

/// Start the gossip tasks on `(sender, receiver)`: received transactions go to `pool` after their
/// signature check against `chain_id`.
pub fn start_gossip<E, S, R>(context: E, chain_id: &str, pool: Arc<dyn TxSource>, (sender, receiver): (S, R)) -> Gossip
where
    E: Spawner + Metrics,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
{
    let (outbox, inbox) = mpsc::unbounded();
    context.with_label("gossip_out").spawn(move |_| send_loop(inbox, sender));
    let chain_id = chain_id.to_string();
    context.with_label("gossip_in").spawn(move |_| receive_loop(receiver, chain_id, pool));
    Gossip { outbox }
}

async fn send_loop<S: Sender<PublicKey = PublicKey>>(mut inbox: mpsc::UnboundedReceiver<Vec<SignedTx>>, mut sender: S) {
    while let Some(txs) = inbox.next().await {
        for message in encode_batches(&txs) {
            // A peer that is offline misses the message: it still gets the transactions in blocks.
            let _ = sender.send(Recipients::All, message, false).await;
        }
    }
}

async fn receive_loop<R: Receiver<PublicKey = PublicKey>>(mut receiver: R, chain_id: String, pool: Arc<dyn TxSource>) {
    while let Ok((_peer, message)) = receiver.recv().await {
        match decode_batch(message.as_ref(), &chain_id) {
            Ok(txs) => pool.admit_all(txs),
            Err(e) => eprintln!("bft: gossip message refused: [{}] {e}", e.code()),
        }
    }
}

/// `txs` as gossip messages within both caps; a transaction too large to fit alone is left out (a node
/// admits nothing that large).
pub fn encode_batches(txs: &[SignedTx]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for chunk in txs.chunks(GOSSIP_TXS_MAX) {
        encode_within(chunk, &mut out);
    }
    out
}

fn encode_within(txs: &[SignedTx], out: &mut Vec<Vec<u8>>) {
    if txs.is_empty() {
        return;
    }
    let bytes = borsh::to_vec(txs).expect("encoding into a Vec cannot fail");
    if bytes.len() <= GOSSIP_BYTES_MAX {
        out.push(bytes);
    } else if txs.len() > 1 {
        let (a, b) = txs.split_at(txs.len() / 2);
        encode_within(a, out);
        encode_within(b, out);
    }
}

/// The transactions of a gossip message whose signatures are valid for `chain_id` (the others are
/// dropped); an error if the message breaks a cap or is not a list of transactions.
pub fn decode_batch(bytes: &[u8], chain_id: &str) -> Result<Vec<SignedTx>, GossipError> {
    if bytes.len() > GOSSIP_BYTES_MAX {
        return Err(GossipError::TooLarge { got: bytes.len() });
    }
    let txs: Vec<SignedTx> = borsh::from_slice(bytes).map_err(|_| GossipError::Malformed)?;
    if txs.len() > GOSSIP_TXS_MAX {
        return Err(GossipError::TooManyTxs { got: txs.len() });
    }
    Ok(txs.into_iter().filter(|tx| verify_one(tx, chain_id)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use engine::{Call, TxBody};
    use types::{AccountId, Amount, Signature};

    const CHAIN: &str = "stakework-test";

    fn tx(nonce: u64, memo_len: usize) -> SignedTx {
        let key = SigningKey::from_bytes(&[3; 32]);
        let body = TxBody {
            signer: AccountId(key.verifying_key().to_bytes()),
            nonce,
            fee: Amount(1),
            call: Call::PublishList { name: "x".repeat(memo_len), nodes: Vec::new() },
        };
        body.sign(&key, CHAIN)
    }

    #[test]
    fn batches_round_trip_and_drop_bad_signatures() {
        let mut txs: Vec<SignedTx> = (0..3).map(|n| tx(n, 4)).collect();
        txs[1].signature = Signature([0; 64]);
        let messages = encode_batches(&txs);
        assert_eq!(messages.len(), 1);
        let got = decode_batch(&messages[0], CHAIN).expect("a well-formed message");
        assert_eq!(got, vec![txs[0].clone(), txs[2].clone()], "the forged one is dropped");
        assert!(decode_batch(&messages[0], "other-chain").expect("well-formed").is_empty());
    }

    #[test]
    fn batches_split_to_fit_both_caps() {
        let many: Vec<SignedTx> = (0..(GOSSIP_TXS_MAX as u64 + 5)).map(|n| tx(n, 4)).collect();
        let big: Vec<SignedTx> = (0..4).map(|n| tx(n, GOSSIP_BYTES_MAX / 3)).collect();
        for txs in [many, big] {
            let messages = encode_batches(&txs);
            assert!(messages.len() > 1);
            let mut back = Vec::new();
            for m in &messages {
                back.extend(decode_batch(m, CHAIN).expect("within the caps"));
            }
            assert_eq!(back, txs);
        }
    }

    #[test]
    fn oversized_or_malformed_messages_are_refused() {
        assert_eq!(
            decode_batch(&vec![0; GOSSIP_BYTES_MAX + 1], CHAIN),
            Err(GossipError::TooLarge { got: GOSSIP_BYTES_MAX + 1 })
        );
        assert_eq!(decode_batch(&[1, 2, 3], CHAIN), Err(GossipError::Malformed));
        let too_many = borsh::to_vec(&vec![tx(0, 0); GOSSIP_TXS_MAX + 1]).expect("encodes");
        assert_eq!(decode_batch(&too_many, CHAIN), Err(GossipError::TooManyTxs { got: GOSSIP_TXS_MAX + 1 }));
    }
}
