//! The genesis document: parameters, initial balances and services, in one TOML file validated with the
//! bad field named.

use crate::Params;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use types::{AccountId, Amount};

/// The genesis file: parameters and initial balances, in one TOML document.
///
/// ```toml
/// [params]
/// chain_id = "stakework-local"
/// epoch_length = 100
///
/// [[accounts]]
/// id = "5f0c…"          # 64 hex digits: an ed25519 public key
/// name = "alice"        # optional label, for people
/// free = "1000 SWK"     # or base units: "1000000000000" / 1000000000000
/// bonded = "100 SWK"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    #[serde(default)]
    pub params: Params,
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
    /// Services at genesis, given ids 1, 2, … in this order. Later ones come through governance.
    #[serde(default)]
    pub services: Vec<GenesisService>,
    /// The consensus validator set (docs/CONSENSUS.md). Empty, the default, is a single node that seals
    /// every block itself; a validator's node runs with `--validator-key` naming one of these keys. Each is
    /// a validator candidate (engine state): the top `params.validators_max` by stake form each era's set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validators: Vec<GenesisValidator>,
}

/// One validator of the consensus set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// Its consensus and p2p public key: ed25519, 64 hex digits (the key of `--validator-key FILE`).
    pub key: AccountId,
    /// Where the other validators reach it: `ip:port`.
    pub p2p: String,
    /// The account that stakes for it: one of the genesis accounts.
    pub account: AccountId,
}

/// A service at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenesisService {
    pub name: String,
    pub weight: u32,
    pub price: Amount,
    /// Proof-of-Inference threshold (median similarity, ppb); default 850000000 (0.85).
    #[serde(default = "default_poi_threshold")]
    pub poi_threshold: types::Ppb,
    /// Whether this service's tasks wait at Committed for oracles' semantic attestations, which then
    /// decide its Proof of Inference (default false: n-gram agreement decides).
    #[serde(default)]
    pub semantic_poi: bool,
}

fn default_poi_threshold() -> types::Ppb {
    crate::market::POI_THRESHOLD_DEFAULT
}

/// One account's starting balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    pub id: AccountId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub free: Amount,
    #[serde(default)]
    pub bonded: Amount,
}

/// Why a genesis file was refused. Nothing was started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// The text is not valid TOML, has an unknown key, or a value of the wrong shape.
    #[error("genesis file is malformed: {0}")]
    Malformed(String),
    /// A value is well-formed but breaks a rule; `field` names it.
    #[error("genesis field `{field}` is invalid: {message}")]
    Invalid { field: String, message: String },
}

impl GenesisError {
    pub fn code(&self) -> &'static str {
        match self {
            GenesisError::Malformed(_) => "genesis_malformed",
            GenesisError::Invalid { .. } => "genesis_invalid",
        }
    }
}

impl Genesis {
    /// Parse and validate a genesis TOML document.
    pub fn from_toml(text: &str) -> Result<Genesis, GenesisError> {
        let g: Genesis = toml::from_str(text).map_err(|e| GenesisError::Malformed(e.to_string()))?;
        g.validate()?;
        Ok(g)
    }

    /// Add `validator` to the set, and its staking account with `bond` bonded when the genesis does not
    /// have it (an account already there takes no `bond`, a missing one needs it: a typo never creates an
    /// account); then validate the whole. On an error `self` may be changed: callers work on a copy.
    pub fn add_validator(&mut self, validator: GenesisValidator, bond: Option<Amount>) -> Result<(), GenesisError> {
        let account = validator.account;
        let invalid = |message: String| GenesisError::Invalid { field: "validators".into(), message };
        match (self.accounts.iter().any(|a| a.id == account), bond) {
            (true, Some(_)) => return Err(invalid(format!("account {account} is already in the genesis: no bond"))),
            (false, None) => return Err(invalid(format!("account {account} is not in the genesis: give its bond"))),
            (true, None) => {}
            (false, Some(bonded)) => {
                self.accounts.push(GenesisAccount { id: account, name: None, free: Amount::ZERO, bonded })
            }
        }
        self.validators.push(validator);
        Genesis::from_toml(&self.to_toml()).map(|_| ())
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("genesis always serializes to TOML")
    }

    /// Check parameters, duplicate accounts and that the total supply fits in 128 bits.
    pub fn validate(&self) -> Result<(), GenesisError> {
        self.params
            .validate()
            .map_err(|(field, message)| GenesisError::Invalid { field: field.to_string(), message })?;
        let mut seen = BTreeSet::new();
        let mut supply = Amount::ZERO;
        for (i, a) in self.accounts.iter().enumerate() {
            let field = |f: &str| format!("accounts[{i}].{f}");
            if !seen.insert(a.id) {
                return Err(GenesisError::Invalid {
                    field: field("id"),
                    message: format!("account {} is listed twice", a.id),
                });
            }
            supply = supply.checked_add(a.free).and_then(|s| s.checked_add(a.bonded)).ok_or_else(|| {
                GenesisError::Invalid { field: field("free"), message: "total supply overflows 128 bits".to_string() }
            })?;
        }
        self.validate_validators(&seen)
    }

    /// Each validator: a key and a p2p address no other validator has, an address that parses, and a
    /// staking account among the genesis accounts.
    fn validate_validators(&self, accounts: &BTreeSet<AccountId>) -> Result<(), GenesisError> {
        let (mut keys, mut addrs) = (BTreeSet::new(), BTreeSet::new());
        for (i, v) in self.validators.iter().enumerate() {
            let bad =
                |f: &str, message: String| GenesisError::Invalid { field: format!("validators[{i}].{f}"), message };
            if !keys.insert(v.key) {
                return Err(bad("key", format!("validator key {} is listed twice", v.key)));
            }
            let addr: std::net::SocketAddr =
                v.p2p.parse().map_err(|_| bad("p2p", format!("{:?} is not an ip:port address", v.p2p)))?;
            if !addrs.insert(addr) {
                return Err(bad("p2p", format!("address {addr} is listed twice")));
            }
            if !accounts.contains(&v.account) {
                return Err(bad("account", format!("account {} is not a genesis account", v.account)));
            }
        }
        Ok(())
    }
}
