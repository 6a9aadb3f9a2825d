//! The AWS twins of the ports against moto in server mode ([`moto`]): the contract
//! suites every twin of a port passes, then what only the AWS twins have (redrive, hops of long
//! delays, long polling, conditional writes under races, request slots as leases, Secrets Manager rotation,
//! configuration from the environment).

mod common;
mod contract;
mod env;
mod harness;
mod limiter;
mod moto;
mod queue;
mod secrets;
mod store;
