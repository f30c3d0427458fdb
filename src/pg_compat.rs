//! The differences between the PostgreSQL versions taxi_loader supports (14 to 18), in one
//! place, behind cfg aliases.

use std::ffi::CStr;

use pgrx::pg_sys;

/// Reserves a GUC prefix: PostgreSQL 15 added MarkGUCPrefixReserved, 14 only warns about
/// unknown placeholders.
pub fn reserve_guc_prefix(prefix: &'static CStr) {
    #[cfg(feature = "pg14")]
    unsafe {
        pg_sys::EmitWarningsOnPlaceholders(prefix.as_ptr())
    }
    #[cfg(not(feature = "pg14"))]
    unsafe {
        pg_sys::MarkGUCPrefixReserved(prefix.as_ptr())
    }
}

/// `RelationGetSmgr`: the relation's storage handle, opened (and owned by the relcache entry, as
/// PostgreSQL does) if a relcache flush closed it. Fetch it again after anything that may flush.
///
/// # Safety
/// `rel` must be an open relation.
pub unsafe fn relation_smgr(rel: pg_sys::Relation) -> pg_sys::SMgrRelation {
    unsafe {
        if (*rel).rd_smgr.is_null() {
            #[cfg(any(feature = "pg14", feature = "pg15"))]
            pg_sys::smgrsetowner(
                &mut (*rel).rd_smgr,
                pg_sys::smgropen((*rel).rd_node, (*rel).rd_backend),
            );
            #[cfg(feature = "pg16")]
            pg_sys::smgrsetowner(
                &mut (*rel).rd_smgr,
                pg_sys::smgropen((*rel).rd_locator, (*rel).rd_backend),
            );
            #[cfg(any(feature = "pg17", feature = "pg18"))]
            {
                (*rel).rd_smgr = pg_sys::smgropen((*rel).rd_locator, (*rel).rd_backend);
                pg_sys::smgrpin((*rel).rd_smgr);
            }
        }
        (*rel).rd_smgr
    }
}

/// `InvalidSubTransactionId` (a macro pgrx does not bind).
const INVALID_SUBXACT: pg_sys::SubTransactionId = 0;

/// `RelationNeedsWAL`: a permanent relation, unless `wal_level` is minimal and this transaction
/// created it or gave it a new file (then its file is synced at commit instead).
///
/// # Safety
/// `rel` must be an open relation.
pub unsafe fn relation_needs_wal(rel: pg_sys::Relation) -> bool {
    unsafe {
        #[cfg(any(feature = "pg14", feature = "pg15"))]
        let first = (*rel).rd_firstRelfilenodeSubid;
        #[cfg(not(any(feature = "pg14", feature = "pg15")))]
        let first = (*rel).rd_firstRelfilelocatorSubid;
        (*(*rel).rd_rel).relpersistence as u8 == pg_sys::RELPERSISTENCE_PERMANENT
            && (pg_sys::wal_level >= pg_sys::WalLevel::WAL_LEVEL_REPLICA as i32
                || ((*rel).rd_createSubid == INVALID_SUBXACT && first == INVALID_SUBXACT))
    }
}

/// `log_newpages`: WAL-logs whole pages of `rel`'s fork, setting their LSNs.
///
/// # Safety
/// `rel` must be an open relation; `pages[i]` a page of block `blocks[i]`.
pub unsafe fn log_newpages(
    rel: pg_sys::Relation,
    fork: pg_sys::ForkNumber::Type,
    blocks: &mut [pg_sys::BlockNumber],
    pages: &mut [pg_sys::Page],
    page_std: bool,
) {
    debug_assert_eq!(blocks.len(), pages.len());
    unsafe {
        #[cfg(any(feature = "pg14", feature = "pg15"))]
        let locator = &raw mut (*rel).rd_node;
        #[cfg(not(any(feature = "pg14", feature = "pg15")))]
        let locator = &raw mut (*rel).rd_locator;
        pg_sys::log_newpages(
            locator,
            fork,
            blocks.len() as i32,
            blocks.as_mut_ptr(),
            pages.as_mut_ptr() as _,
            page_std,
        );
    }
}

/// `smgrextend`: writes `page` as the new block `block` of the fork, registering the file to be
/// synced at the next checkpoint, as a buffer's write does.
///
/// # Safety
/// `smgr` must be open; `block` the fork's current length.
pub unsafe fn smgr_extend(
    smgr: pg_sys::SMgrRelation,
    fork: pg_sys::ForkNumber::Type,
    block: pg_sys::BlockNumber,
    page: pg_sys::Page,
) {
    unsafe { pg_sys::smgrextend(smgr, fork, block, page as _, false) }
}
