//! Argon2id through paved against the argon2 crate called directly, same parameters and input.
//! Goal: paved / raw ≤ 1.03 for both hashing and verifying.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

// nosemgrep: paved.password-hash-outside-paved -- raw argon2 is the benchmark baseline
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use criterion::{Criterion, criterion_group, criterion_main};
use paved_crypto::PasswordHasher;
use paved_secrets::SecretString;
use ring::rand::{SecureRandom as _, SystemRandom};

const PASSWORD: &str = "tulip rocket violin ember";

fn argon2_hash(c: &mut Criterion) {
    let mut group = c.benchmark_group("argon2_hash");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    let rng = SystemRandom::new();
    let raw = Argon2::default();
    group.bench_function("raw_argon2", |b| {
        b.iter(|| {
            let mut salt = [0u8; 16];
            rng.fill(&mut salt).unwrap();
            raw.hash_password_with_salt(PASSWORD.as_bytes(), &salt)
                .unwrap()
                .to_string()
        });
    });
    let paved = PasswordHasher::default();
    let password = SecretString::from(PASSWORD);
    group.bench_function("paved", |b| b.iter(|| paved.hash(&password).unwrap()));
    group.finish();
}

fn argon2_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("argon2_verify");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    let paved = PasswordHasher::default();
    let password = SecretString::from(PASSWORD);
    let stored = paved.hash(&password).unwrap().into_string();
    let raw = Argon2::default();
    group.bench_function("raw_argon2", |b| {
        b.iter(|| {
            // nosemgrep: paved.password-hash-outside-paved -- raw argon2 is the benchmark baseline
            let parsed = password_hash::phc::PasswordHash::new(&stored).unwrap();
            // nosemgrep: paved.password-hash-outside-paved -- raw argon2 is the benchmark baseline
            raw.verify_password(PASSWORD.as_bytes(), &parsed).unwrap();
        });
    });
    group.bench_function("paved", |b| {
        b.iter(|| paved.verify(&password, &stored).unwrap());
    });
    group.finish();
}

criterion_group!(benches, argon2_hash, argon2_verify);
criterion_main!(benches);
