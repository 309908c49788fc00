;; The radio map's inner loop (radio-map.ts, `scoreZone`): the best misfit over a zone's sample
;; points, in WebAssembly because it is the engine's hottest loop (about a quarter of its time on
;; a mall's readings) and runs about twice as fast here as in JavaScript. Every operation is the
;; JavaScript's, in the same order (IEEE doubles, no fused multiply-add), so the results are the
;; same to the last bit. Regenerate radio-score-wasm.ts after editing: npm run build:wasm.
(module
  (memory (export "memory") 1)
  ;; $levels: the zone's rows of $width f64 levels, one row per point (byte offset).
  ;; $inRange: a u32 per point, bit c set when column c is in range of it (byte offset).
  ;; $cols, $r: the heard sensors' columns (i32) and readings (f64), $heard of each.
  ;; $needed: the bits of those columns; a point lacking one is out of range and skipped.
  ;; Returns the smallest Σe² − (Σe)²/n over the points (e = reading − level), +inf if none;
  ;; a point with an unheard level (NaN) never compares less.
  (func (export "bestMisfit")
    (param $levels i32) (param $inRange i32) (param $points i32) (param $width i32)
    (param $heard i32) (param $needed i32) (param $cols i32) (param $r i32) (result f64)
    (local $p i32) (local $row i32) (local $i i32) (local $stride i32)
    (local $sum f64) (local $sq f64) (local $e f64) (local $best f64) (local $sse f64) (local $n f64)
    (local.set $best (f64.const inf))
    (local.set $n (f64.convert_i32_u (local.get $heard)))
    (local.set $stride (i32.shl (local.get $width) (i32.const 3)))
    (local.set $row (local.get $levels))
    (block $done
      (loop $points
        (br_if $done (i32.ge_u (local.get $p) (local.get $points)))
        (if (i32.eq
              (i32.and
                (i32.load (i32.add (local.get $inRange) (i32.shl (local.get $p) (i32.const 2))))
                (local.get $needed))
              (local.get $needed))
          (then
            (local.set $sum (f64.const 0))
            (local.set $sq (f64.const 0))
            (local.set $i (i32.const 0))
            (block $summed
              (loop $sensors
                (br_if $summed (i32.ge_u (local.get $i) (local.get $heard)))
                (local.set $e
                  (f64.sub
                    (f64.load (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 3))))
                    (f64.load
                      (i32.add
                        (local.get $row)
                        (i32.shl
                          (i32.load (i32.add (local.get $cols) (i32.shl (local.get $i) (i32.const 2))))
                          (i32.const 3))))))
                (local.set $sum (f64.add (local.get $sum) (local.get $e)))
                (local.set $sq (f64.add (local.get $sq) (f64.mul (local.get $e) (local.get $e))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $sensors)))
            (local.set $sse
              (f64.sub (local.get $sq) (f64.div (f64.mul (local.get $sum) (local.get $sum)) (local.get $n))))
            (if (f64.lt (local.get $sse) (local.get $best))
              (then (local.set $best (local.get $sse))))))
        (local.set $row (i32.add (local.get $row) (local.get $stride)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $points)))
    (local.get $best)))
