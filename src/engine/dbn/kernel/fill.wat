;; DBN record -> column fill kernel (see fillKernel.ts). Regenerate fillWasm.ts after editing:
;;   npm run gen:wasm
;;
;; Records and columns live in one linear memory owned by the decoder. Each function appends
;; the run of records at `src` that share the 2-byte header `head` (length word | rtype << 8)
;; until `end`, a different header, or `cap` rows, and returns the new row count; the caller
;; derives the stop offset as src + (returned - n) * len (every record of a run has `len` bytes).
;;
;; `d` points at the column set's descriptor: one i32 address per column, in this order:
;;   0 publisherId u16   1 instrumentId u32  2 tsEvent u64   3 tsRecv u64    4 price f64
;;   5 size u32          6 action u8         7 side u8       8 flags u8      9 depth u8
;;  10 tsInDelta i32    11 sequence u32
;; mbp-1 adds: 12 bidPx f64  13 askPx f64  14 bidSz u32  15 askSz u32  16 bidCt u32  17 askCt u32
;;
;; `full` = 0 fills only what bars read (instrumentId, price, size, side, tsRecv; mbp-1 also
;; bid/ask price and size) and leaves the other columns as they were.
;;
;; Prices: i64 fixed-point -> f64 (exact below 2^53, otherwise rounded to nearest like
;; hi * 2^32 + lo in JS), i64::MAX (UNDEF_PRICE) -> NaN (the canonical quiet NaN, as JS's NaN).
(module
  (import "env" "memory" (memory 1))

  (func $px (param $p i64) (result f64)
    (select (f64.const nan) (f64.convert_i64_s (local.get $p)) (i64.eq (local.get $p) (i64.const 0x7fffffffffffffff))))

  (func (export "fillTrades")
    (param $src i32) (param $end i32) (param $n i32) (param $cap i32) (param $head i32) (param $len i32) (param $d i32) (param $full i32)
    (result i32)
    (local $pub i32) (local $inst i32) (local $tsE i32) (local $tsR i32) (local $price i32) (local $size i32)
    (local $act i32) (local $side i32) (local $fl i32) (local $dep i32) (local $tid i32) (local $seq i32)
    (local $x i32) (local $n4 i32) (local $n8 i32)
    (local.set $pub (i32.load offset=0 (local.get $d)))
    (local.set $inst (i32.load offset=4 (local.get $d)))
    (local.set $tsE (i32.load offset=8 (local.get $d)))
    (local.set $tsR (i32.load offset=12 (local.get $d)))
    (local.set $price (i32.load offset=16 (local.get $d)))
    (local.set $size (i32.load offset=20 (local.get $d)))
    (local.set $act (i32.load offset=24 (local.get $d)))
    (local.set $side (i32.load offset=28 (local.get $d)))
    (local.set $fl (i32.load offset=32 (local.get $d)))
    (local.set $dep (i32.load offset=36 (local.get $d)))
    (local.set $tid (i32.load offset=40 (local.get $d)))
    (local.set $seq (i32.load offset=44 (local.get $d)))
    (if (local.get $full)
      (then
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $n) (local.get $cap)))
            (br_if $done (i32.gt_u (local.get $len) (i32.sub (local.get $end) (local.get $src))))
            (local.set $x (i32.load (local.get $src)))
            (br_if $done (i32.ne (i32.and (local.get $x) (i32.const 0xffff)) (local.get $head)))
            (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
            (local.set $n8 (i32.shl (local.get $n) (i32.const 3)))
            (i32.store16 (i32.add (local.get $pub) (i32.shl (local.get $n) (i32.const 1))) (i32.shr_u (local.get $x) (i32.const 16)))
            (i32.store (i32.add (local.get $inst) (local.get $n4)) (i32.load offset=4 (local.get $src)))
            (i64.store (i32.add (local.get $tsE) (local.get $n8)) (i64.load offset=8 (local.get $src)))
            (f64.store (i32.add (local.get $price) (local.get $n8)) (call $px (i64.load offset=16 (local.get $src))))
            (i32.store (i32.add (local.get $size) (local.get $n4)) (i32.load offset=24 (local.get $src)))
            (local.set $x (i32.load offset=28 (local.get $src)))
            (i32.store8 (i32.add (local.get $act) (local.get $n)) (local.get $x))
            (i32.store8 (i32.add (local.get $side) (local.get $n)) (i32.shr_u (local.get $x) (i32.const 8)))
            (i32.store8 (i32.add (local.get $fl) (local.get $n)) (i32.shr_u (local.get $x) (i32.const 16)))
            (i32.store8 (i32.add (local.get $dep) (local.get $n)) (i32.shr_u (local.get $x) (i32.const 24)))
            (i64.store (i32.add (local.get $tsR) (local.get $n8)) (i64.load offset=32 (local.get $src)))
            (i32.store (i32.add (local.get $tid) (local.get $n4)) (i32.load offset=40 (local.get $src)))
            (i32.store (i32.add (local.get $seq) (local.get $n4)) (i32.load offset=44 (local.get $src)))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (local.set $src (i32.add (local.get $src) (local.get $len)))
            (br $next))))
      (else
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $n) (local.get $cap)))
            (br_if $done (i32.gt_u (local.get $len) (i32.sub (local.get $end) (local.get $src))))
            (br_if $done (i32.ne (i32.load16_u (local.get $src)) (local.get $head)))
            (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
            (local.set $n8 (i32.shl (local.get $n) (i32.const 3)))
            (i32.store (i32.add (local.get $inst) (local.get $n4)) (i32.load offset=4 (local.get $src)))
            (f64.store (i32.add (local.get $price) (local.get $n8)) (call $px (i64.load offset=16 (local.get $src))))
            (i32.store (i32.add (local.get $size) (local.get $n4)) (i32.load offset=24 (local.get $src)))
            (i32.store8 (i32.add (local.get $side) (local.get $n)) (i32.load8_u offset=29 (local.get $src)))
            (i64.store (i32.add (local.get $tsR) (local.get $n8)) (i64.load offset=32 (local.get $src)))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (local.set $src (i32.add (local.get $src) (local.get $len)))
            (br $next)))))
    (local.get $n))

  ;; Mbp1Msg (rtype 1): the trade fields above plus level 0 of the book at offsets 48..79.
  (func (export "fillMbp1")
    (param $src i32) (param $end i32) (param $n i32) (param $cap i32) (param $head i32) (param $len i32) (param $d i32) (param $full i32)
    (result i32)
    (local $pub i32) (local $inst i32) (local $tsE i32) (local $tsR i32) (local $price i32) (local $size i32)
    (local $act i32) (local $side i32) (local $fl i32) (local $dep i32) (local $tid i32) (local $seq i32)
    (local $bidPx i32) (local $askPx i32) (local $bidSz i32) (local $askSz i32) (local $bidCt i32) (local $askCt i32)
    (local $x i32) (local $n4 i32) (local $n8 i32)
    (local.set $pub (i32.load offset=0 (local.get $d)))
    (local.set $inst (i32.load offset=4 (local.get $d)))
    (local.set $tsE (i32.load offset=8 (local.get $d)))
    (local.set $tsR (i32.load offset=12 (local.get $d)))
    (local.set $price (i32.load offset=16 (local.get $d)))
    (local.set $size (i32.load offset=20 (local.get $d)))
    (local.set $act (i32.load offset=24 (local.get $d)))
    (local.set $side (i32.load offset=28 (local.get $d)))
    (local.set $fl (i32.load offset=32 (local.get $d)))
    (local.set $dep (i32.load offset=36 (local.get $d)))
    (local.set $tid (i32.load offset=40 (local.get $d)))
    (local.set $seq (i32.load offset=44 (local.get $d)))
    (local.set $bidPx (i32.load offset=48 (local.get $d)))
    (local.set $askPx (i32.load offset=52 (local.get $d)))
    (local.set $bidSz (i32.load offset=56 (local.get $d)))
    (local.set $askSz (i32.load offset=60 (local.get $d)))
    (local.set $bidCt (i32.load offset=64 (local.get $d)))
    (local.set $askCt (i32.load offset=68 (local.get $d)))
    (if (local.get $full)
      (then
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $n) (local.get $cap)))
            (br_if $done (i32.gt_u (local.get $len) (i32.sub (local.get $end) (local.get $src))))
            (local.set $x (i32.load (local.get $src)))
            (br_if $done (i32.ne (i32.and (local.get $x) (i32.const 0xffff)) (local.get $head)))
            (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
            (local.set $n8 (i32.shl (local.get $n) (i32.const 3)))
            (i32.store16 (i32.add (local.get $pub) (i32.shl (local.get $n) (i32.const 1))) (i32.shr_u (local.get $x) (i32.const 16)))
            (i32.store (i32.add (local.get $inst) (local.get $n4)) (i32.load offset=4 (local.get $src)))
            (i64.store (i32.add (local.get $tsE) (local.get $n8)) (i64.load offset=8 (local.get $src)))
            (f64.store (i32.add (local.get $price) (local.get $n8)) (call $px (i64.load offset=16 (local.get $src))))
            (i32.store (i32.add (local.get $size) (local.get $n4)) (i32.load offset=24 (local.get $src)))
            (local.set $x (i32.load offset=28 (local.get $src)))
            (i32.store8 (i32.add (local.get $act) (local.get $n)) (local.get $x))
            (i32.store8 (i32.add (local.get $side) (local.get $n)) (i32.shr_u (local.get $x) (i32.const 8)))
            (i32.store8 (i32.add (local.get $fl) (local.get $n)) (i32.shr_u (local.get $x) (i32.const 16)))
            (i32.store8 (i32.add (local.get $dep) (local.get $n)) (i32.shr_u (local.get $x) (i32.const 24)))
            (i64.store (i32.add (local.get $tsR) (local.get $n8)) (i64.load offset=32 (local.get $src)))
            (i32.store (i32.add (local.get $tid) (local.get $n4)) (i32.load offset=40 (local.get $src)))
            (i32.store (i32.add (local.get $seq) (local.get $n4)) (i32.load offset=44 (local.get $src)))
            (f64.store (i32.add (local.get $bidPx) (local.get $n8)) (call $px (i64.load offset=48 (local.get $src))))
            (f64.store (i32.add (local.get $askPx) (local.get $n8)) (call $px (i64.load offset=56 (local.get $src))))
            (i32.store (i32.add (local.get $bidSz) (local.get $n4)) (i32.load offset=64 (local.get $src)))
            (i32.store (i32.add (local.get $askSz) (local.get $n4)) (i32.load offset=68 (local.get $src)))
            (i32.store (i32.add (local.get $bidCt) (local.get $n4)) (i32.load offset=72 (local.get $src)))
            (i32.store (i32.add (local.get $askCt) (local.get $n4)) (i32.load offset=76 (local.get $src)))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (local.set $src (i32.add (local.get $src) (local.get $len)))
            (br $next))))
      (else
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $n) (local.get $cap)))
            (br_if $done (i32.gt_u (local.get $len) (i32.sub (local.get $end) (local.get $src))))
            (br_if $done (i32.ne (i32.load16_u (local.get $src)) (local.get $head)))
            (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
            (local.set $n8 (i32.shl (local.get $n) (i32.const 3)))
            (i32.store (i32.add (local.get $inst) (local.get $n4)) (i32.load offset=4 (local.get $src)))
            (f64.store (i32.add (local.get $price) (local.get $n8)) (call $px (i64.load offset=16 (local.get $src))))
            (i32.store (i32.add (local.get $size) (local.get $n4)) (i32.load offset=24 (local.get $src)))
            (i32.store8 (i32.add (local.get $side) (local.get $n)) (i32.load8_u offset=29 (local.get $src)))
            (i64.store (i32.add (local.get $tsR) (local.get $n8)) (i64.load offset=32 (local.get $src)))
            (f64.store (i32.add (local.get $bidPx) (local.get $n8)) (call $px (i64.load offset=48 (local.get $src))))
            (f64.store (i32.add (local.get $askPx) (local.get $n8)) (call $px (i64.load offset=56 (local.get $src))))
            (i32.store (i32.add (local.get $bidSz) (local.get $n4)) (i32.load offset=64 (local.get $src)))
            (i32.store (i32.add (local.get $askSz) (local.get $n4)) (i32.load offset=68 (local.get $src)))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (local.set $src (i32.add (local.get $src) (local.get $len)))
            (br $next)))))
    (local.get $n))
)
