//! The relay's end-to-end encryption (seed 003: "all traffic routed through its relay is encrypted and
//! metered"): a client seals a request's prompt to the miner the chain assigned it, the router carries
//! ciphertext it can count but not read, and the miner's answer comes back sealed on the same exchange.
//!
//! The keys are the accounts' own: an account is an ed25519 public key, and its X25519 form (the
//! birational map to Montgomery form, `VerifyingKey::to_montgomery`; the secret side is
//! `SigningKey::to_scalar_bytes`) is the static key of the exchange, so no key is published anywhere but
//! on chain. One round trip, in the shape of Noise `KK` (both static keys known in advance):
//!
//! - request: the client draws an ephemeral `e`; `k_request = blake3_kdf(REQUEST, request id ‖ client ‖
//!   miner ‖ e ‖ DH(e, S_miner) ‖ DH(s_client, S_miner))`; the prompt is sealed with ChaCha20-Poly1305
//!   under `k_request`, the associated data being the header (protocol, request id, client, miner, `e`);
//! - answer: the miner draws an ephemeral `f`; `k_answer = blake3_kdf(ANSWER, k_request ‖ f ‖ DH(f, e) ‖
//!   DH(f, S_client))`; the answer is sealed under `k_answer` with the request's header and `f` as
//!   associated data.
//!
//! What this gives: only the named miner (or the client) can compute `k_request`, so only it reads the
//! prompt; the static-static term means only the client (or the miner) could have sealed it, so a prompt
//! cannot be injected under someone else's request; the request id is bound into the key and the
//! associated data, so a sealed prompt cannot be moved to another request, miner or client; a flipped
//! bit anywhere fails the Poly1305 tag. The answer's key mixes two fresh ephemerals, so answers stay
//! secret even if both accounts' keys leak later; a prompt, like Noise KK's first message, is exposed if
//! the miner's key leaks. Each key seals exactly one message, so the nonce is constant.
//!
//! The router sees the request id, both account ids, the sizes and the timing (what it must meter), and
//! can drop, delay or replay a message; a replay reaches a miner that already answered that request and
//! gets nothing, and what the router cannot do undetected is read or alter a prompt or an answer.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use curve25519_dalek::montgomery::MontgomeryPoint;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use types::AccountId;

/// Names the protocol in every key derivation and header: a change of any step changes this name.
pub const PROTOCOL: &str = "stakework relay v1: X25519 KK, blake3, ChaCha20-Poly1305";
const REQUEST_CONTEXT: &str = "stakework relay v1 2026-11 request key";
const ANSWER_CONTEXT: &str = "stakework relay v1 2026-11 answer key";

/// Why a sealed message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// An account that is not a usable ed25519 key (not a point, or of small order).
    #[error("{0} is not a usable key")]
    BadKey(String),
    /// A request sealed to another miner.
    #[error("sealed to {0}, not to this miner")]
    WrongMiner(AccountId),
    /// A field is not the hex it should be.
    #[error("malformed sealed message: {0}")]
    Malformed(String),
    /// The tag did not verify: altered on the way, or sealed with other keys.
    #[error("the sealed message failed authentication")]
    Tampered,
}

impl SealError {
    /// A stable snake_case code, for the miner's error answers.
    pub fn code(&self) -> &'static str {
        match self {
            SealError::BadKey(_) => "bad_key",
            SealError::WrongMiner(_) => "wrong_miner",
            SealError::Malformed(_) => "malformed_seal",
            SealError::Tampered => "seal_tampered",
        }
    }
}

/// An account's side of the exchange: its id and the X25519 secret of its signing key.
pub struct Identity {
    pub account: AccountId,
    scalar: [u8; 32],
}

/// Never prints the secret.
impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Identity").field("account", &self.account).finish_non_exhaustive()
    }
}

impl Identity {
    pub fn new(key: &SigningKey) -> Identity {
        Identity { account: AccountId(key.verifying_key().to_bytes()), scalar: key.to_scalar_bytes() }
    }
}

/// What a client sends, through a router, to a miner's `/infer`: everything but `sealed` is in the clear
/// (the router and the miner need it to route and to find the request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedRequest {
    pub request: u64,
    pub client: AccountId,
    pub miner: AccountId,
    /// The client's ephemeral X25519 key, hex.
    pub ephemeral: String,
    /// The prompt, sealed, hex.
    pub sealed: String,
}

/// A miner's sealed answer to a [`SealedRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedAnswer {
    pub request: u64,
    /// The miner's ephemeral X25519 key, hex.
    pub ephemeral: String,
    /// The answer, sealed, hex.
    pub sealed: String,
}

/// The keys of one exchange, kept by whichever side needs the next message.
pub struct Session {
    request_key: [u8; 32],
    header: Vec<u8>,
    /// The client's ephemeral and static public keys (the miner's side), or the client's ephemeral and
    /// static secrets (the client's side).
    client_ephemeral: [u8; 32],
    client_static: [u8; 32],
}

/// Never prints a key.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

fn montgomery(account: &AccountId) -> Result<MontgomeryPoint, SealError> {
    let key = VerifyingKey::from_bytes(&account.0).map_err(|_| SealError::BadKey(account.to_string()))?;
    if key.is_weak() {
        return Err(SealError::BadKey(account.to_string()));
    }
    Ok(key.to_montgomery())
}

/// X25519; an all-zero result (a small-order point) is refused, so no exchange runs on a known secret.
fn dh(scalar: [u8; 32], point: MontgomeryPoint) -> Result<[u8; 32], SealError> {
    let shared = point.mul_clamped(scalar).to_bytes();
    if shared == [0; 32] {
        return Err(SealError::BadKey(hex::encode(point.to_bytes())));
    }
    Ok(shared)
}

fn fresh_scalar() -> [u8; 32] {
    let mut s = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut s);
    s
}

fn header(request: u64, client: &AccountId, miner: &AccountId, ephemeral: &[u8; 32]) -> Vec<u8> {
    let mut h = Vec::with_capacity(PROTOCOL.len() + 8 + 96);
    h.extend_from_slice(PROTOCOL.as_bytes());
    h.extend_from_slice(&request.to_le_bytes());
    h.extend_from_slice(&client.0);
    h.extend_from_slice(&miner.0);
    h.extend_from_slice(ephemeral);
    h
}

fn derive(context: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut kdf = blake3::Hasher::new_derive_key(context);
    for p in parts {
        kdf.update(p);
    }
    *kdf.finalize().as_bytes()
}

/// Fails only for a message beyond the AEAD's limit (256 GiB).
fn seal(key: &[u8; 32], aad: &[u8], msg: &[u8]) -> Result<String, SealError> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let sealed = cipher
        .encrypt(Nonce::from_slice(&[0; 12]), Payload { msg, aad })
        .map_err(|_| SealError::Malformed("message too long to seal".into()))?;
    Ok(hex::encode(sealed))
}

fn open(key: &[u8; 32], aad: &[u8], sealed: &str) -> Result<String, SealError> {
    let bytes = hex::decode(sealed).map_err(|e| SealError::Malformed(format!("sealed: {e}")))?;
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let plain =
        cipher.decrypt(Nonce::from_slice(&[0; 12]), Payload { msg: &bytes, aad }).map_err(|_| SealError::Tampered)?;
    String::from_utf8(plain).map_err(|_| SealError::Malformed("not UTF-8".into()))
}

fn key32(field: &str, text: &str) -> Result<[u8; 32], SealError> {
    let bytes = hex::decode(text).map_err(|e| SealError::Malformed(format!("{field}: {e}")))?;
    bytes.try_into().map_err(|_| SealError::Malformed(format!("{field}: not 32 bytes")))
}

/// The client's side: seal `prompt` for request `request` to `miner`. Keep the session to open the answer.
pub fn seal_request(
    me: &Identity,
    miner: &AccountId,
    request: u64,
    prompt: &str,
) -> Result<(SealedRequest, Session), SealError> {
    let miner_key = montgomery(miner)?;
    let e = fresh_scalar();
    let e_public = MontgomeryPoint::mul_base_clamped(e).to_bytes();
    let header = header(request, &me.account, miner, &e_public);
    let request_key = derive(REQUEST_CONTEXT, &[&header, &dh(e, miner_key)?, &dh(me.scalar, miner_key)?]);
    let sealed = seal(&request_key, &header, prompt.as_bytes())?;
    let out = SealedRequest { request, client: me.account, miner: *miner, ephemeral: hex::encode(e_public), sealed };
    Ok((out, Session { request_key, header, client_ephemeral: e, client_static: me.scalar }))
}

/// The miner's side: open a sealed request addressed to `me`; the prompt and the session to seal the answer.
pub fn open_request(me: &Identity, req: &SealedRequest) -> Result<(String, Session), SealError> {
    if req.miner != me.account {
        return Err(SealError::WrongMiner(req.miner));
    }
    let client_key = montgomery(&req.client)?;
    let e_public = key32("ephemeral", &req.ephemeral)?;
    let header = header(req.request, &req.client, &req.miner, &e_public);
    let es = dh(me.scalar, MontgomeryPoint(e_public))?;
    let request_key = derive(REQUEST_CONTEXT, &[&header, &es, &dh(me.scalar, client_key)?]);
    let prompt = open(&request_key, &header, &req.sealed)?;
    let session = Session { request_key, header, client_ephemeral: e_public, client_static: client_key.to_bytes() };
    Ok((prompt, session))
}

impl Session {
    /// The miner's side: seal `answer` to the client of this exchange.
    pub fn seal_answer(&self, request: u64, answer: &str) -> Result<SealedAnswer, SealError> {
        let f = fresh_scalar();
        let f_public = MontgomeryPoint::mul_base_clamped(f).to_bytes();
        let ee = dh(f, MontgomeryPoint(self.client_ephemeral))?;
        let es = dh(f, MontgomeryPoint(self.client_static))?;
        let answer_key = derive(ANSWER_CONTEXT, &[&self.request_key, &f_public, &ee, &es]);
        let aad = [self.header.as_slice(), &f_public].concat();
        Ok(SealedAnswer {
            request,
            ephemeral: hex::encode(f_public),
            sealed: seal(&answer_key, &aad, answer.as_bytes())?,
        })
    }

    /// The client's side: open the miner's sealed answer.
    pub fn open_answer(&self, answer: &SealedAnswer) -> Result<String, SealError> {
        let f_public = MontgomeryPoint(key32("ephemeral", &answer.ephemeral)?);
        let ee = dh(self.client_ephemeral, f_public)?;
        let es = dh(self.client_static, f_public)?;
        let answer_key = derive(ANSWER_CONTEXT, &[&self.request_key, &f_public.to_bytes(), &ee, &es]);
        let aad = [self.header.as_slice(), &f_public.to_bytes()].concat();
        open(&answer_key, &aad, &answer.sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(seed: u8) -> Identity {
        Identity::new(&SigningKey::from_bytes(&[seed; 32]))
    }

    #[test]
    fn a_prompt_and_its_answer_cross_sealed_and_only_the_parties_read_them() {
        let (client, miner, other) = (identity(1), identity(2), identity(3));
        let (req, client_session) = seal_request(&client, &miner.account, 7, "the secret prompt").expect("sealed");
        assert!(!req.sealed.contains(&hex::encode("the secret prompt")));
        let (prompt, miner_session) = open_request(&miner, &req).expect("opened");
        assert_eq!(prompt, "the secret prompt");
        let answer = miner_session.seal_answer(7, "the answer").expect("sealed answer");
        assert_eq!(client_session.open_answer(&answer).expect("opened answer"), "the answer");
        // Another account cannot open it, even when the miner field is rewritten to name it.
        let redirected = SealedRequest { miner: other.account, ..req.clone() };
        assert_eq!(open_request(&other, &redirected).err(), Some(SealError::Tampered));
        assert_eq!(open_request(&other, &req).err(), Some(SealError::WrongMiner(miner.account)));
    }

    #[test]
    fn a_changed_bit_a_moved_prompt_or_a_forged_client_is_refused() {
        let (client, miner, forger) = (identity(1), identity(2), identity(4));
        let (req, session) = seal_request(&client, &miner.account, 7, "prompt").expect("sealed");
        let mut bytes = hex::decode(&req.sealed).expect("hex");
        bytes[0] ^= 1;
        let flipped = SealedRequest { sealed: hex::encode(bytes), ..req.clone() };
        assert_eq!(open_request(&miner, &flipped).err(), Some(SealError::Tampered));
        let moved = SealedRequest { request: 8, ..req.clone() };
        assert_eq!(open_request(&miner, &moved).err(), Some(SealError::Tampered));
        // A prompt sealed by the forger cannot pass as the client's.
        let (forged, _) = seal_request(&forger, &miner.account, 7, "injected").expect("sealed");
        let forged = SealedRequest { client: client.account, ..forged };
        assert_eq!(open_request(&miner, &forged).err(), Some(SealError::Tampered));
        // An answer sealed for another exchange does not open on this one.
        let (other_req, _) = seal_request(&client, &miner.account, 7, "prompt").expect("sealed");
        let (_, other_session) = open_request(&miner, &other_req).expect("opened");
        let stray = other_session.seal_answer(7, "stray").expect("sealed");
        assert_eq!(session.open_answer(&stray).err(), Some(SealError::Tampered));
    }

    #[test]
    fn the_account_keys_agree_on_x25519() {
        // The ed25519 → X25519 maps of both halves of a key agree: DH is symmetric across two accounts.
        let (a, b) = (identity(5), identity(6));
        let ab = dh(a.scalar, montgomery(&b.account).expect("point")).expect("dh");
        let ba = dh(b.scalar, montgomery(&a.account).expect("point")).expect("dh");
        assert_eq!(ab, ba);
        assert!(montgomery(&AccountId([0; 32])).is_err(), "a small-order key is refused");
    }
}
