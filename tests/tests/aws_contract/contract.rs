//! The contract suites of the queue and store ports, run against the AWS twins: the same
//! suites the SQLite twins pass (`exsync_shared::ports::contract`).

mod queue {
    use std::sync::Arc;

    use exsync_shared::ports::contract::QueueTwin;

    exsync_shared::queue_contract!(async {
        QueueTwin::of(Arc::new(crate::common::fresh_queue().await))
    });
}

mod store {
    use std::sync::Arc;

    use exsync_shared::ports::contract::StoreTwin;

    exsync_shared::store_contract!(async {
        StoreTwin::of(Arc::new(crate::common::fresh_store().await))
    });
}
