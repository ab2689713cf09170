//! The jbd2 journal, split like fs/jbd2: on-disk blocks, transaction,
//! commit, checkpoint, revoke, recovery.
