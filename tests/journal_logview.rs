#![cfg(not(target_arch = "wasm32"))]
//! The read-only log view (`jbd2_log_view`): transactions with their
//! descriptor tags, revokes and commit blocks, as committed by our jbd2,
//! checked against what each commit reported.

#[path = "common/journal.rs"]
mod journal_util;

use ext4lab::engine::journal::logview::jbd2_log_view;
use ext4lab::engine::journal::ondisk::CsumVersion;
use journal_util::*;

#[test]
fn log_view_lists_committed_transactions() {
    for (csum, is_64bit) in [(CsumVersion::V3, true), (CsumVersion::None, false)] {
        let mut fx = fixture(1024, 8, "^metadata_csum,64bit", csum, is_64bit);
        let a: Vec<_> = (0..3)
            .map(|i| (fx.free[i], pattern(1024, i as u32 + 1)))
            .collect();
        let c1 = fx.commit(&a, &[]);
        let b: Vec<_> = (3..5)
            .map(|i| (fx.free[i], pattern(1024, i as u32 + 1)))
            .collect();
        let c2 = fx.commit(&b, &[fx.free[0]]);
        let map = fx.map.clone();
        let v = jbd2_log_view(&mut fx.dev, &map, fx.bs).unwrap();
        assert_eq!(v.csum, csum);
        assert!(v.problems.is_empty(), "{:?}", v.problems);
        let t: Vec<_> = v.transactions.iter().map(|t| t.tid).collect();
        assert_eq!(t, vec![c1.tid, c2.tid]);
        let (t1, t2) = (&v.transactions[0], &v.transactions[1]);
        assert_eq!(t1.descriptors, vec![c1.log_start]);
        let homes: Vec<u64> = t1.tags.iter().map(|g| g.blocknr).collect();
        assert_eq!(homes, a.iter().map(|(b, _)| *b).collect::<Vec<_>>());
        // The copies follow the descriptor; the commit follows the copies.
        assert_eq!(t1.tags[0].log_block, c1.log_start + 1);
        assert_eq!(t1.commit, Some(c1.commit_block));
        assert!(t1.revokes.is_empty());
        assert_eq!(t2.revokes, vec![fx.free[0]]);
        assert_eq!(t2.revoke_blocks.len() as u32, c2.revoke_blocks);
        assert_eq!(t2.commit, Some(c2.commit_block));
        assert_eq!(t2.tags.len() as u32, c2.logged_blocks);
        // Not checkpointed: recovery would replay both.
        assert!(v.s_start != 0);
        assert!(t1.live && t2.live, "{v:?}");
    }
}
