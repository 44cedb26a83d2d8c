//! The Wasm side of the boundary: allocator, panic handler, the runtime
//! version custom section and the exported entry points.
//!
//! Every export has the signature `(ptr: u32, len: u32) -> u64`: the host
//! writes the SCALE input into a buffer it got from our `alloc`, and we return
//! the output's `(ptr, len)` packed into a `u64`. Each call runs in a fresh
//! instance, so output buffers are simply leaked.

use alloc::vec::Vec;

#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // The runtime denies panicking constructs; should one slip through, the
    // host sees a trap and fails the call deterministically.
    core::arch::wasm32::unreachable()
}

/// SCALE-encoded runtime version, readable without executing the code.
#[link_section = "runtime_version"]
#[used]
static RUNTIME_VERSION: [u8; crate::version_section::LEN] = crate::version_section::BYTES;

/// Allocates `len` bytes (alignment 1) for the host to fill.
#[no_mangle]
pub extern "C" fn alloc(len: u32) -> u32 {
    let mut v: Vec<u8> = Vec::with_capacity(len as usize);
    let p = v.as_mut_ptr();
    core::mem::forget(v);
    p as u32
}

/// Frees a buffer from [`alloc`].
#[no_mangle]
pub extern "C" fn dealloc(ptr: u32, len: u32) {
    // SAFETY: the host passes back exactly a (ptr, len) it got from `alloc`.
    unsafe { drop(Vec::from_raw_parts(ptr as *mut u8, 0, len as usize)) }
}

/// Runs entry point `method` on the input at `(ptr, len)`; every export
/// `crate::apis` declares comes here.
pub(crate) fn call(method: &str, ptr: u32, len: u32) -> u64 {
    // SAFETY: the host wrote `len` bytes at `ptr`, in a buffer from `alloc`.
    let input = unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) };
    match crate::apis::dispatch(method, input) {
        Ok(out) => {
            let out = core::mem::ManuallyDrop::new(out);
            qstack_io::pack_ptr_len(out.as_ptr() as u32, out.len() as u32)
        }
        // Bad input: the host maps this sentinel to a "bad input" error.
        Err(_) => qstack_io::NONE_SENTINEL,
    }
}
