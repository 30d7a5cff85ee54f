//! The in-process backend: two bounded tables behind one lock, so a check of both counters and
//! the pending mark on both are one step, as in the Redis script.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::{Counter, Keys, Op, Rule, Rules};

/// Share of a full table evicted at once: evicting in batches keeps the cost of the sort
/// amortised (a flood of random user names must not make each insert scan the whole table).
const EVICT_DIVISOR: usize = 8;

pub(super) struct Memory {
    tables: Mutex<Tables>,
    max_entries: usize,
}

#[derive(Default)]
struct Tables {
    accounts: HashMap<[u8; 32], Counter>,
    ips: HashMap<[u8; 32], Counter>,
}

impl Memory {
    pub(super) fn new(max_entries: usize) -> Self {
        Self {
            tables: Mutex::new(Tables::default()),
            max_entries,
        }
    }

    pub(super) fn len(&self) -> usize {
        let tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        tables.accounts.len() + tables.ips.len()
    }

    /// Applies `op`; the wait in seconds for a refused check, else 0.
    pub(super) fn apply(&self, op: Op, keys: &Keys, rules: &Rules, now: u64) -> u64 {
        // The tables hold plain counters that every step leaves consistent: a panic elsewhere
        // while the lock was held cannot have left them half-updated.
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        let Tables { accounts, ips } = &mut *tables;
        let account = (accounts, &keys.account, &rules.account);
        let ip = (ips, &keys.ip, &rules.ip);
        match op {
            Op::Check => {
                let wait = current(account.0, account.1, account.2, now)
                    .wait(account.2, now)
                    .max(current(ip.0, ip.1, ip.2, now).wait(ip.2, now));
                if wait > 0 {
                    return wait;
                }
                for (table, key, rule) in [account, ip] {
                    let c = self.entry(table, key, rule, now);
                    c.pending = c.pending.saturating_add(1);
                    c.last = now;
                }
            }
            Op::Failure => {
                for (table, key, rule) in [account, ip] {
                    let c = self.entry(table, key, rule, now);
                    c.pending = c.pending.saturating_sub(1);
                    c.failures = c.failures.saturating_add(1);
                    c.last = now;
                }
            }
            Op::Success => {
                account.0.remove(account.1);
                take_back(ip.0, ip.1);
            }
            Op::Release => {
                take_back(account.0, account.1);
                take_back(ip.0, ip.1);
            }
        }
        0
    }

    /// The live counter for `key`, created (after making room) or reset if it expired.
    fn entry<'t>(
        &self,
        table: &'t mut HashMap<[u8; 32], Counter>,
        key: &[u8; 32],
        rule: &Rule,
        now: u64,
    ) -> &'t mut Counter {
        if !table.contains_key(key) && table.len() >= self.max_entries {
            make_room(table, rule, now, self.max_entries);
        }
        let counter = table.entry(*key).or_default();
        if counter.expired(rule, now) {
            *counter = Counter::default();
        }
        counter
    }
}

/// The counter for `key` as it counts now (an expired one counts as empty).
fn current(table: &HashMap<[u8; 32], Counter>, key: &[u8; 32], rule: &Rule, now: u64) -> Counter {
    table
        .get(key)
        .filter(|c| !c.expired(rule, now))
        .copied()
        .unwrap_or_default()
}

/// Takes one pending attempt back, if the counter still has one.
fn take_back(table: &mut HashMap<[u8; 32], Counter>, key: &[u8; 32]) {
    if let Some(c) = table.get_mut(key) {
        c.pending = c.pending.saturating_sub(1);
    }
}

/// Drops expired counters; if the table is still full, drops the lightest eighth: fewest
/// failures first, then oldest. A flood of random names (one failure each) then evicts its own
/// kind rather than the counter of an account under attack.
fn make_room(table: &mut HashMap<[u8; 32], Counter>, rule: &Rule, now: u64, max_entries: usize) {
    table.retain(|_, c| !c.expired(rule, now));
    if table.len() < max_entries {
        return;
    }
    let mut order: Vec<([u8; 32], u64, u64)> = table
        .iter()
        .map(|(k, c)| (*k, c.weight(), c.last))
        .collect();
    order.sort_unstable_by_key(|&(_, weight, last)| (weight, last));
    let evict = (max_entries / EVICT_DIVISOR).max(1);
    for (key, _, _) in order.into_iter().take(evict) {
        table.remove(&key);
    }
}
