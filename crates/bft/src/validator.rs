//! One validator's commonware stack: block broadcast, marshal (standard variant, `Inline` over our
//! [`crate::App`]) and simplex (ed25519 signatures, round-robin leaders), wired as in commonware's alto
//! at the pinned release.
//!
//! Consensus runs one simplex engine per epoch (= stakework era), each over the set elected for its era
//! ([`crate::orchestrator`]); marshal checks fetched certificates with the scheme of their epoch. Every
//! validator must be given the same namespace (and, for a genesis that elects no set, the same fixed
//! participant set). Storage partitions carry a prefix the caller names (the node uses the validator's public key), so
//! several validators can share one runtime in tests, and a restarted one finds what it synced.

use crate::block::{ChainBlock, Digest, BLOCK_BYTES_MAX};
use crate::orchestrator::{EpochSchemes, Orchestrator, Transition};
use crate::Finalizer;
use commonware_broadcast::buffered;
use commonware_consensus::{
    marshal::{
        self,
        core::{Actor as MarshalActor, Mailbox as MarshalMailbox},
        standard::{Inline, Standard},
        Update,
    },
    simplex::{
        scheme::ed25519,
        types::{Context, Finalization},
    },
    types::{Epocher, FixedEpocher, Height as ChainHeight, ViewDelta},
    Reporter, VerifyingApplication,
};
use commonware_cryptography::{
    certificate::Scheme as _,
    ed25519::{PrivateKey, PublicKey},
    Signer as _,
};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{buffer::paged::CacheRef, BufferPooler, Clock, Metrics, Spawner, Storage};
use commonware_storage::archive::immutable;
use commonware_utils::{ordered::Set, NZUsize, NZU16, NZU64};
use futures::channel::mpsc::UnboundedReceiver;
use rand::{CryptoRng, Rng};
use std::time::Duration;

/// The signing scheme of votes and certificates.
pub type Scheme = ed25519::Scheme;

/// p2p channel of votes.
pub const CHANNEL_VOTES: u64 = 0;
/// p2p channel of notarization, nullification and finalization certificates.
pub const CHANNEL_CERTIFICATES: u64 = 1;
/// p2p channel of simplex's certificate fetches.
pub const CHANNEL_RESOLVER: u64 = 2;
/// p2p channel of full blocks (marshal's buffered broadcast).
pub const CHANNEL_BLOCKS: u64 = 3;
/// p2p channel of marshal's backfill of missing finalized blocks.
pub const CHANNEL_BACKFILL: u64 = 4;
/// p2p channel of transaction gossip ([`crate::gossip`]).
pub const CHANNEL_TXS: u64 = 5;

/// How long a validator waits for a leader's proposal before voting to skip the view.
pub const LEADER_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a validator waits for a notarization before voting to skip the view.
pub const CERTIFICATION_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a validator could not start.
#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    #[error("cannot open marshal's {archive} archive: {error}")]
    Archive { archive: &'static str, error: commonware_storage::archive::Error },
    /// Marshal was told blocks up to `acked` were durable, but the committed state (the node's store) ends
    /// at `store`: the store lost finalized blocks it had acknowledged (put back from an older copy beside
    /// newer consensus archives). Marshal will not deliver them again, so the validator cannot go on.
    #[error(
        "the store ends at height {store} but consensus was told blocks up to {acked} were durable: the store \
         lost finalized blocks; restore the data directory (store and consensus) from one copy, or start a new one"
    )]
    StoreBehindConsensus { store: u64, acked: u64 },
}

impl ValidatorError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ValidatorError::Archive { .. } => "archive_unavailable",
            ValidatorError::StoreBehindConsensus { .. } => "store_behind_consensus",
        }
    }
}

/// The five consensus channels, each a (sender, receiver) pair: votes, certificates, resolver, blocks,
/// backfill (channels 0 to 4).
pub type Channels<S0, R0, S1, R1, S2, R2, S3, R3, S4, R4> = ((S0, R0), (S1, R1), (S2, R2), (S3, R3), (S4, R4));

/// Start one validator running `app` with the secret key `secret`, its storage partitions named
/// `{partitions}-…` (the node passes the public key; two instances sharing a runtime, as a test's Byzantine
/// twins do, need two names). A validator restarted with the same name resumes from what it synced there.
/// Votes and certificates are signed under `namespace`; `fixed` is the validator set of every epoch when
/// the app elects none (a genesis without validators: one epoch for ever, see [`crate::orchestrator`]).
/// The application side (broadcast, marshal) starts before consensus, as alto does. Refused, with nothing
/// started, when marshal's acknowledged height is above the app's committed height
/// (`store_behind_consensus`); the other way round is a crash between the sink's append and the
/// acknowledgement, and marshal delivers those blocks again (the app ignores heights it has).
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub async fn start_validator<E, A, P, B, S0, R0, S1, R1, S2, R2, S3, R3, S4, R4>(
    context: E,
    app: A,
    secret: PrivateKey,
    namespace: &[u8],
    fixed: Set<PublicKey>,
    partitions: &str,
    provider: P,
    blocker: B,
    (votes, certificates, resolver, blocks, backfill): Channels<S0, R0, S1, R1, S2, R2, S3, R3, S4, R4>,
) -> Result<(), ValidatorError>
where
    E: BufferPooler + Clock + CryptoRng + Rng + Spawner + Storage + Metrics,
    A: VerifyingApplication<E, Block = ChainBlock, SigningScheme = Scheme, Context = Context<Digest, PublicKey>>
        + Reporter<Activity = Update<ChainBlock>>
        + Finalizer,
    P: Provider<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
    S0: Sender<PublicKey = PublicKey>,
    R0: Receiver<PublicKey = PublicKey>,
    S1: Sender<PublicKey = PublicKey>,
    R1: Receiver<PublicKey = PublicKey>,
    S2: Sender<PublicKey = PublicKey>,
    R2: Receiver<PublicKey = PublicKey>,
    S3: Sender<PublicKey = PublicKey>,
    R3: Receiver<PublicKey = PublicKey>,
    S4: Sender<PublicKey = PublicKey>,
    R4: Receiver<PublicKey = PublicKey>,
{
    let public_key = secret.public_key();
    let buffer_config = buffer_config(public_key.clone(), provider.clone());
    let (buffer, buffer_mailbox) =
        buffered::Engine::<_, PublicKey, ChainBlock, _>::new(context.with_label("buffer"), buffer_config);
    let page_cache = CacheRef::from_pooler(&context, NZU16!(4096), NZUsize!(1024));
    let epocher = FixedEpocher::new(app.epoch_length());
    let schemes = EpochSchemes::default();
    let (marshal_actor, marshal_mailbox, acked) =
        init_marshal(&context, schemes.clone(), epocher.clone(), partitions, &page_cache).await?;
    let store = app.committed_height().0;
    if acked.get() > store {
        return Err(ValidatorError::StoreBehindConsensus { store, acked: acked.get() });
    }
    let listening = listen(&app, &epocher, store);
    let (book, telemetry) = (app.certificates(), app.telemetry());
    let inline = Inline::new(context.with_label("inline"), app, marshal_mailbox.clone(), epocher.clone());
    let backfill_config = backfill_config(public_key, provider, blocker.clone());
    let resolver_parts = marshal::resolver::p2p::init(&context.with_label("backfill"), backfill_config, backfill);
    buffer.start(blocks);
    marshal_actor.start(inline.clone(), buffer_mailbox, resolver_parts);
    let orchestrator = Orchestrator {
        secret,
        namespace: namespace.to_vec(),
        fallback: fixed,
        schemes,
        epocher,
        inline,
        marshal: marshal_mailbox,
        book,
        telemetry,
        blocker,
        partitions: partitions.to_string(),
        page_cache,
    };
    orchestrator.start(&context, listening, (votes, certificates, resolver));
    Ok(())
}

/// Where the app announces each epoch it enters, the first (the epoch of the block after `store`, with the
/// set the committed state holds for it) already sent.
fn listen<A: Finalizer>(app: &A, epocher: &FixedEpocher, store: u64) -> UnboundedReceiver<Transition> {
    let first = epocher.containing(ChainHeight::new(store + 1)).expect("a fixed epocher covers every height").epoch();
    let first = Transition { epoch: first.get(), validators: app.validator_set(first.get()).unwrap_or_default() };
    let (transitions, listening) = futures::channel::mpsc::unbounded();
    transitions.unbounded_send(first).expect("the receiver is held here");
    app.listen(transitions);
    listening
}

/// The broadcast of full blocks to `provider`'s peers.
fn buffer_config<P: Provider<PublicKey = PublicKey>>(
    public_key: PublicKey,
    provider: P,
) -> buffered::Config<PublicKey, usize, P> {
    buffered::Config {
        public_key,
        mailbox_size: 1024,
        deque_size: 10,
        priority: true,
        codec_config: BLOCK_BYTES_MAX,
        peer_provider: provider,
    }
}

/// Marshal's backfill of missing finalized blocks from `provider`'s peers.
fn backfill_config<P, B>(
    public_key: PublicKey,
    provider: P,
    blocker: B,
) -> marshal::resolver::p2p::Config<PublicKey, P, B>
where
    P: Provider<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
{
    marshal::resolver::p2p::Config {
        public_key,
        peer_provider: provider,
        blocker,
        mailbox_size: 1024,
        initial: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
        fetch_retry_timeout: Duration::from_millis(100),
        priority_requests: false,
        priority_responses: false,
    }
}

type FinalizationArchive<E> = immutable::Archive<E, Digest, Finalization<Scheme, Digest>>;
type BlockArchive<E> = immutable::Archive<E, Digest, ChainBlock>;
type Marshal<E> = MarshalActor<
    E,
    Standard<ChainBlock>,
    EpochSchemes,
    FinalizationArchive<E>,
    BlockArchive<E>,
    FixedEpocher,
    Sequential,
>;

/// Open marshal's archives (finalizations by height, finalized blocks) and its actor; with the height it
/// last had acknowledged.
async fn init_marshal<E>(
    context: &E,
    schemes: EpochSchemes,
    epocher: FixedEpocher,
    partitions: &str,
    page_cache: &CacheRef,
) -> Result<
    (Marshal<E>, MarshalMailbox<Scheme, Standard<ChainBlock>>, commonware_consensus::types::Height),
    ValidatorError,
>
where
    E: BufferPooler + Clock + CryptoRng + Rng + Spawner + Storage + Metrics,
{
    let certificates = Scheme::certificate_codec_config_unbounded();
    let finalizations = immutable::Archive::init(
        context.with_label("finalizations"),
        archive_config(partitions, "finalizations", page_cache, certificates),
    )
    .await
    .map_err(|error| ValidatorError::Archive { archive: "finalizations", error })?;
    let blocks = immutable::Archive::init(
        context.with_label("blocks"),
        archive_config(partitions, "blocks", page_cache, BLOCK_BYTES_MAX),
    )
    .await
    .map_err(|error| ValidatorError::Archive { archive: "blocks", error })?;
    let config = marshal::Config {
        provider: schemes,
        epocher,
        partition_prefix: format!("{partitions}-marshal"),
        mailbox_size: 1024,
        view_retention_timeout: ViewDelta::new(100),
        prunable_items_per_section: NZU64!(1024),
        page_cache: page_cache.clone(),
        replay_buffer: NZUsize!(1 << 16),
        key_write_buffer: NZUsize!(1 << 16),
        value_write_buffer: NZUsize!(1 << 16),
        block_codec_config: BLOCK_BYTES_MAX,
        max_repair: NZUsize!(10),
        max_pending_acks: NZUsize!(4),
        strategy: Sequential,
    };
    let (actor, mailbox, acked) =
        MarshalActor::init(context.with_label("marshal"), finalizations, blocks, config).await;
    Ok((actor, mailbox, acked))
}

/// An immutable archive's settings, its partitions named after `partitions` and `name`. Small tables
/// and 1 MiB value journals keep the deterministic runtime's in-memory storage small.
fn archive_config<C>(partitions: &str, name: &str, page_cache: &CacheRef, codec_config: C) -> immutable::Config<C> {
    immutable::Config {
        metadata_partition: format!("{partitions}-{name}-metadata"),
        freezer_table_partition: format!("{partitions}-{name}-freezer-table"),
        freezer_table_initial_size: 1 << 10,
        freezer_table_resize_frequency: 4,
        freezer_table_resize_chunk_size: 1 << 10,
        freezer_key_partition: format!("{partitions}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_key_write_buffer: NZUsize!(1 << 16),
        freezer_value_partition: format!("{partitions}-{name}-freezer-value"),
        freezer_value_write_buffer: NZUsize!(1 << 16),
        freezer_value_target_size: 1 << 20,
        freezer_value_compression: None,
        ordinal_partition: format!("{partitions}-{name}-ordinal"),
        ordinal_write_buffer: NZUsize!(1 << 16),
        items_per_section: NZU64!(1024),
        codec_config,
        replay_buffer: NZUsize!(1 << 16),
    }
}
