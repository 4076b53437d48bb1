//! The notebook kernel's Web Worker (work in progress).
