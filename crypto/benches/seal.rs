//! Sealing and opening a 200-byte cookie payload. Goal: ≤ 2 µs each.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use paved_crypto::Sealer;
use paved_secrets::KeyRing;

fn sealer(c: &mut Criterion) {
    let mut group = c.benchmark_group("sealer");
    let sealer = Sealer::new(&KeyRing::generate().unwrap(), "session-cookie").unwrap();
    let payload = [0x42u8; 200];
    group.bench_function("seal_cookie", |b| {
        b.iter(|| sealer.seal(&payload, Duration::from_secs(3600)).unwrap());
    });
    let cookie = sealer.seal(&payload, Duration::from_secs(3600)).unwrap();
    group.bench_function("open_cookie", |b| b.iter(|| sealer.open(&cookie).unwrap()));
    group.finish();
}

criterion_group!(benches, sealer);
criterion_main!(benches);
