/**
 * A faithful port of git's xdiff line diff (Myers with xdiff's heuristics, record clean-up and
 * the indent heuristic of xdl_change_compact), so that hunk boundaries equal `git diff`'s.
 * Records are "byte strings" (latin1-decoded), each ending in "\n" except possibly the last one.
 * Mirrors xdiff/xprepare.c and xdiff/xdiffi.c of git 2.39; the comments name the C functions.
 */

export type Change = { i1: number; i2: number; chg1: number; chg2: number }

/** Splits latin1 text into records that keep their "\n" (the last one may lack it). */
export function splitRecords(text: string): string[] {
  const out: string[] = []
  let start = 0
  for (;;) {
    const nl = text.indexOf('\n', start)
    if (nl < 0) break
    out.push(text.slice(start, nl + 1))
    start = nl + 1
  }
  if (start < text.length) out.push(text.slice(start))
  return out
}

const MAX_EQLIMIT = 1024
const SIMSCAN_WINDOW = 100
const KPDIS_RUN = 4
const MAX_COST_MIN = 256
const HEUR_MIN_COST = 256
const SNAKE_CNT = 20
const K_HEUR = 4
const LINE_MAX = 0x7fffffff

/** xdl_bogosqrt */
function bogosqrt(n: number): number {
  let i = 1
  for (; n > 0; n >>= 2) i <<= 1
  return i
}

/** One side of the diff: class ids per record, the "changed" marks (offset by one for the -1 sentinel). */
type Side = { nrec: number; cls: Int32Array; changed: Uint8Array; rindex: Int32Array; nreff: number; ha: Int32Array }

function newSide(cls: Int32Array): Side {
  const nrec = cls.length
  return { nrec, cls, changed: new Uint8Array(nrec + 2), rindex: new Int32Array(nrec + 1), nreff: 0, ha: new Int32Array(nrec + 1) }
}

/** xdl_clean_mmatch */
function cleanMmatch(dis: Uint8Array, i: number, s: number, e: number): boolean {
  if (i - s > SIMSCAN_WINDOW) s = i - SIMSCAN_WINDOW
  if (e - i > SIMSCAN_WINDOW) e = i + SIMSCAN_WINDOW
  let r: number
  let rdis0 = 0
  let rpdis0 = 1
  for (r = 1; i - r >= s; r++) {
    const d = dis[i - r]!
    if (!d) rdis0++
    else if (d === 2) rpdis0++
    else break
  }
  if (rdis0 === 0) return false
  let rdis1 = 0
  let rpdis1 = 1
  for (r = 1; i + r <= e; r++) {
    const d = dis[i + r]!
    if (!d) rdis1++
    else if (d === 2) rpdis1++
    else break
  }
  if (rdis1 === 0) return false
  rdis1 += rdis0
  rpdis1 += rpdis0
  return rpdis1 * KPDIS_RUN < rpdis1 + rdis1
}

/** xdl_trim_ends + xdl_cleanup_records: drops records without a match from the Myers input. */
function prepare(x1: Side, x2: Side, nclasses: number): void {
  const lim = Math.min(x1.nrec, x2.nrec)
  let i = 0
  while (i < lim && x1.cls[i] === x2.cls[i]) i++
  const dstart = i
  let j = 0
  const lim2 = lim - dstart
  while (j < lim2 && x1.cls[x1.nrec - 1 - j] === x2.cls[x2.nrec - 1 - j]) j++
  const dend1 = x1.nrec - j - 1
  const dend2 = x2.nrec - j - 1

  const count1 = new Int32Array(nclasses)
  const count2 = new Int32Array(nclasses)
  for (let k = 0; k < x1.nrec; k++) count1[x1.cls[k]!]!++
  for (let k = 0; k < x2.nrec; k++) count2[x2.cls[k]!]!++

  const dis1 = new Uint8Array(x1.nrec + 1)
  const dis2 = new Uint8Array(x2.nrec + 1)
  const mlim1 = Math.min(bogosqrt(x1.nrec), MAX_EQLIMIT)
  for (let k = dstart; k <= dend1; k++) {
    const nm = Math.min(count2[x1.cls[k]!]!, mlim1)
    dis1[k] = nm === 0 ? 0 : nm >= mlim1 ? 2 : 1
  }
  const mlim2 = Math.min(bogosqrt(x2.nrec), MAX_EQLIMIT)
  for (let k = dstart; k <= dend2; k++) {
    const nm = Math.min(count1[x2.cls[k]!]!, mlim2)
    dis2[k] = nm === 0 ? 0 : nm >= mlim2 ? 2 : 1
  }
  keepRecords(x1, dis1, dstart, dend1)
  keepRecords(x2, dis2, dstart, dend2)
}

function keepRecords(x: Side, dis: Uint8Array, dstart: number, dend: number): void {
  let nreff = 0
  for (let k = dstart; k <= dend; k++) {
    const d = dis[k]!
    if (d === 1 || (d === 2 && !cleanMmatch(dis, k, dstart, dend))) {
      x.rindex[nreff] = k
      x.ha[nreff] = x.cls[k]!
      nreff++
    } else {
      x.changed[k + 1] = 1
    }
  }
  x.nreff = nreff
}

type Split = { i1: number; i2: number; minLo: boolean; minHi: boolean }
type Env = { mxcost: number; kvdf: Int32Array; kvdb: Int32Array; base: number }

/** xdl_split: the middle snake of the box, with xdiff's cost heuristics. */
function split(h1: Int32Array, off1: number, lim1: number, h2: Int32Array, off2: number, lim2: number, needMin: boolean, spl: Split, env: Env): void {
  const { kvdf, kvdb, base } = env
  const dmin = off1 - lim2
  const dmax = lim1 - off2
  const fmid = off1 - off2
  const bmid = lim1 - lim2
  const odd = (fmid - bmid) & 1
  let fmin = fmid
  let fmax = fmid
  let bmin = bmid
  let bmax = bmid
  kvdf[base + fmid] = off1
  kvdb[base + bmid] = lim1
  for (let ec = 1; ; ec++) {
    let gotSnake = false
    if (fmin > dmin) kvdf[base + --fmin - 1] = -1
    else ++fmin
    if (fmax < dmax) kvdf[base + ++fmax + 1] = -1
    else --fmax
    for (let d = fmax; d >= fmin; d -= 2) {
      let i1 = kvdf[base + d - 1]! >= kvdf[base + d + 1]! ? kvdf[base + d - 1]! + 1 : kvdf[base + d + 1]!
      const prev1 = i1
      let i2 = i1 - d
      while (i1 < lim1 && i2 < lim2 && h1[i1] === h2[i2]) {
        i1++
        i2++
      }
      if (i1 - prev1 > SNAKE_CNT) gotSnake = true
      kvdf[base + d] = i1
      if (odd && bmin <= d && d <= bmax && kvdb[base + d]! <= i1) {
        spl.i1 = i1
        spl.i2 = i2
        spl.minLo = spl.minHi = true
        return
      }
    }
    if (bmin > dmin) kvdb[base + --bmin - 1] = LINE_MAX
    else ++bmin
    if (bmax < dmax) kvdb[base + ++bmax + 1] = LINE_MAX
    else --bmax
    for (let d = bmax; d >= bmin; d -= 2) {
      let i1 = kvdb[base + d - 1]! < kvdb[base + d + 1]! ? kvdb[base + d - 1]! : kvdb[base + d + 1]! - 1
      const prev1 = i1
      let i2 = i1 - d
      while (i1 > off1 && i2 > off2 && h1[i1 - 1] === h2[i2 - 1]) {
        i1--
        i2--
      }
      if (prev1 - i1 > SNAKE_CNT) gotSnake = true
      kvdb[base + d] = i1
      if (!odd && fmin <= d && d <= fmax && i1 <= kvdf[base + d]!) {
        spl.i1 = i1
        spl.i2 = i2
        spl.minLo = spl.minHi = true
        return
      }
    }
    if (needMin) continue
    if (gotSnake && ec > HEUR_MIN_COST) {
      let best = 0
      for (let d = fmax; d >= fmin; d -= 2) {
        const dd = d > fmid ? d - fmid : fmid - d
        const i1 = kvdf[base + d]!
        const i2 = i1 - d
        const v = i1 - off1 + (i2 - off2) - dd
        if (v > K_HEUR * ec && v > best && off1 + SNAKE_CNT <= i1 && i1 < lim1 && off2 + SNAKE_CNT <= i2 && i2 < lim2) {
          for (let k = 1; h1[i1 - k] === h2[i2 - k]; k++) {
            if (k === SNAKE_CNT) {
              best = v
              spl.i1 = i1
              spl.i2 = i2
              break
            }
          }
        }
      }
      if (best > 0) {
        spl.minLo = true
        spl.minHi = false
        return
      }
      for (let d = bmax; d >= bmin; d -= 2) {
        const dd = d > bmid ? d - bmid : bmid - d
        const i1 = kvdb[base + d]!
        const i2 = i1 - d
        const v = lim1 - i1 + (lim2 - i2) - dd
        if (v > K_HEUR * ec && v > best && off1 < i1 && i1 <= lim1 - SNAKE_CNT && off2 < i2 && i2 <= lim2 - SNAKE_CNT) {
          for (let k = 0; h1[i1 + k] === h2[i2 + k]; k++) {
            if (k === SNAKE_CNT - 1) {
              best = v
              spl.i1 = i1
              spl.i2 = i2
              break
            }
          }
        }
      }
      if (best > 0) {
        spl.minLo = false
        spl.minHi = true
        return
      }
    }
    if (ec >= env.mxcost) {
      let fbest = -1
      let fbest1 = -1
      for (let d = fmax; d >= fmin; d -= 2) {
        let i1 = Math.min(kvdf[base + d]!, lim1)
        let i2 = i1 - d
        if (lim2 < i2) {
          i1 = lim2 + d
          i2 = lim2
        }
        if (fbest < i1 + i2) {
          fbest = i1 + i2
          fbest1 = i1
        }
      }
      let bbest = LINE_MAX
      let bbest1 = LINE_MAX
      for (let d = bmax; d >= bmin; d -= 2) {
        let i1 = Math.max(off1, kvdb[base + d]!)
        let i2 = i1 - d
        if (i2 < off2) {
          i1 = off2 + d
          i2 = off2
        }
        if (i1 + i2 < bbest) {
          bbest = i1 + i2
          bbest1 = i1
        }
      }
      if (lim1 + lim2 - bbest < fbest - (off1 + off2)) {
        spl.i1 = fbest1
        spl.i2 = fbest - fbest1
        spl.minLo = true
        spl.minHi = false
      } else {
        spl.i1 = bbest1
        spl.i2 = bbest - bbest1
        spl.minLo = false
        spl.minHi = true
      }
      return
    }
  }
}

/** xdl_recs_cmp: divide and conquer over the kept records, marking changed lines. */
function recsCmp(x1: Side, off1: number, lim1: number, x2: Side, off2: number, lim2: number, needMin: boolean, env: Env): void {
  const h1 = x1.ha
  const h2 = x2.ha
  while (off1 < lim1 && off2 < lim2 && h1[off1] === h2[off2]) {
    off1++
    off2++
  }
  while (off1 < lim1 && off2 < lim2 && h1[lim1 - 1] === h2[lim2 - 1]) {
    lim1--
    lim2--
  }
  if (off1 === lim1) {
    for (; off2 < lim2; off2++) x2.changed[x2.rindex[off2]! + 1] = 1
  } else if (off2 === lim2) {
    for (; off1 < lim1; off1++) x1.changed[x1.rindex[off1]! + 1] = 1
  } else {
    const spl: Split = { i1: 0, i2: 0, minLo: false, minHi: false }
    split(h1, off1, lim1, h2, off2, lim2, needMin, spl, env)
    const { i1, i2, minLo, minHi } = spl
    recsCmp(x1, off1, i1, x2, off2, i2, minLo, env)
    recsCmp(x1, i1, lim1, x2, i2, lim2, minHi, env)
  }
}

// ---- xdl_change_compact and the indent heuristic ----

const MAX_INDENT = 200
const MAX_BLANKS = 20
const START_OF_FILE_PENALTY = 1
const END_OF_FILE_PENALTY = 21
const TOTAL_BLANK_WEIGHT = -30
const POST_BLANK_WEIGHT = 6
const RELATIVE_INDENT_PENALTY = -4
const RELATIVE_INDENT_WITH_BLANK_PENALTY = 10
const RELATIVE_OUTDENT_PENALTY = 24
const RELATIVE_OUTDENT_WITH_BLANK_PENALTY = 17
const RELATIVE_DEDENT_PENALTY = 23
const RELATIVE_DEDENT_WITH_BLANK_PENALTY = 17
const INDENT_WEIGHT = 60
const INDENT_HEURISTIC_MAX_SLIDING = 100

/** get_indent: TAB = 8 columns, -1 for a blank line (git's isspace: SP, TAB, LF, CR). */
function getIndent(rec: string): number {
  let ret = 0
  for (let i = 0; i < rec.length; i++) {
    const c = rec.charCodeAt(i)
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return ret
    if (c === 32) ret += 1
    else if (c === 9) ret += 8 - (ret % 8)
    if (ret >= MAX_INDENT) return MAX_INDENT
  }
  return -1
}

type Measure = { eof: boolean; indent: number; preBlank: number; preIndent: number; postBlank: number; postIndent: number }
type Score = { effectiveIndent: number; penalty: number }

function measureSplit(indents: Int32Array, nrec: number, split: number): Measure {
  const m: Measure = { eof: false, indent: -1, preBlank: 0, preIndent: -1, postBlank: 0, postIndent: -1 }
  if (split >= nrec) m.eof = true
  else m.indent = indents[split]!
  for (let i = split - 1; i >= 0; i--) {
    m.preIndent = indents[i]!
    if (m.preIndent !== -1) break
    m.preBlank += 1
    if (m.preBlank === MAX_BLANKS) {
      m.preIndent = 0
      break
    }
  }
  for (let i = split + 1; i < nrec; i++) {
    m.postIndent = indents[i]!
    if (m.postIndent !== -1) break
    m.postBlank += 1
    if (m.postBlank === MAX_BLANKS) {
      m.postIndent = 0
      break
    }
  }
  return m
}

function scoreAddSplit(m: Measure, s: Score): void {
  if (m.preIndent === -1 && m.preBlank === 0) s.penalty += START_OF_FILE_PENALTY
  if (m.eof) s.penalty += END_OF_FILE_PENALTY
  const postBlank = m.indent === -1 ? 1 + m.postBlank : 0
  const totalBlank = m.preBlank + postBlank
  s.penalty += TOTAL_BLANK_WEIGHT * totalBlank
  s.penalty += POST_BLANK_WEIGHT * postBlank
  const indent = m.indent !== -1 ? m.indent : m.postIndent
  const anyBlanks = totalBlank !== 0
  s.effectiveIndent += indent
  if (indent === -1 || m.preIndent === -1) return
  if (indent > m.preIndent) {
    s.penalty += anyBlanks ? RELATIVE_INDENT_WITH_BLANK_PENALTY : RELATIVE_INDENT_PENALTY
  } else if (indent < m.preIndent) {
    if (m.postIndent !== -1 && m.postIndent > indent) {
      s.penalty += anyBlanks ? RELATIVE_OUTDENT_WITH_BLANK_PENALTY : RELATIVE_OUTDENT_PENALTY
    } else {
      s.penalty += anyBlanks ? RELATIVE_DEDENT_WITH_BLANK_PENALTY : RELATIVE_DEDENT_PENALTY
    }
  }
}

function scoreCmp(a: Score, b: Score): number {
  const cmpIndents = (a.effectiveIndent > b.effectiveIndent ? 1 : 0) - (a.effectiveIndent < b.effectiveIndent ? 1 : 0)
  return INDENT_WEIGHT * cmpIndents + (a.penalty - b.penalty)
}

type Group = { start: number; end: number }

/** `changed` is offset by one: changed[i + 1] is record i, with zero sentinels at both ends. */
class Compactor {
  constructor(
    readonly x: Side,
    readonly recs: string[],
  ) {}
  ch(i: number): number {
    return this.x.changed[i + 1]!
  }
  set(i: number, v: number): void {
    this.x.changed[i + 1] = v
  }
  init(): Group {
    const g = { start: 0, end: 0 }
    while (this.ch(g.end)) g.end++
    return g
  }
  next(g: Group): boolean {
    if (g.end === this.x.nrec) return false
    g.start = g.end + 1
    for (g.end = g.start; this.ch(g.end); g.end++);
    return true
  }
  previous(g: Group): boolean {
    if (g.start === 0) return false
    g.end = g.start - 1
    for (g.start = g.end; this.ch(g.start - 1); g.start--);
    return true
  }
  slideDown(g: Group): boolean {
    if (g.end < this.x.nrec && this.x.cls[g.start] === this.x.cls[g.end]) {
      this.set(g.start++, 0)
      this.set(g.end++, 1)
      while (this.ch(g.end)) g.end++
      return true
    }
    return false
  }
  slideUp(g: Group): boolean {
    if (g.start > 0 && this.x.cls[g.start - 1] === this.x.cls[g.end - 1]) {
      this.set(--g.start, 1)
      this.set(--g.end, 0)
      while (this.ch(g.start - 1)) g.start--
      return true
    }
    return false
  }
}

function broken(what: string): never {
  throw new Error(`xdiff: group sync broken ${what}`)
}

/** xdl_change_compact with XDF_INDENT_HEURISTIC (git's default since 2.14). */
function changeCompact(xdf: Compactor, xdfo: Compactor): void {
  const g = xdf.init()
  const go = xdfo.init()
  let indents: Int32Array | null = null
  for (;;) {
    if (g.end !== g.start) {
      let groupsize: number
      let earliestEnd: number
      let endMatchingOther: number
      do {
        groupsize = g.end - g.start
        endMatchingOther = -1
        while (xdf.slideUp(g)) if (!xdfo.previous(go)) broken('sliding up')
        earliestEnd = g.end
        if (go.end > go.start) endMatchingOther = g.end
        for (;;) {
          if (!xdf.slideDown(g)) break
          if (!xdfo.next(go)) broken('sliding down')
          if (go.end > go.start) endMatchingOther = g.end
        }
      } while (groupsize !== g.end - g.start)

      if (g.end === earliestEnd) {
        // no shifting was possible
      } else if (endMatchingOther !== -1) {
        while (go.end === go.start) {
          if (!xdf.slideUp(g)) broken('match disappeared')
          if (!xdfo.previous(go)) broken('sliding to match')
        }
      } else {
        if (!indents) {
          indents = new Int32Array(xdf.recs.length)
          for (let i = 0; i < xdf.recs.length; i++) indents[i] = getIndent(xdf.recs[i]!)
        }
        const nrec = xdf.x.nrec
        let shift = earliestEnd
        if (g.end - groupsize - 1 > shift) shift = g.end - groupsize - 1
        if (g.end - INDENT_HEURISTIC_MAX_SLIDING > shift) shift = g.end - INDENT_HEURISTIC_MAX_SLIDING
        let bestShift = -1
        let best: Score = { effectiveIndent: 0, penalty: 0 }
        for (; shift <= g.end; shift++) {
          const score: Score = { effectiveIndent: 0, penalty: 0 }
          scoreAddSplit(measureSplit(indents, nrec, shift), score)
          scoreAddSplit(measureSplit(indents, nrec, shift - groupsize), score)
          if (bestShift === -1 || scoreCmp(score, best) <= 0) {
            best = score
            bestShift = shift
          }
        }
        while (g.end > bestShift) {
          if (!xdf.slideUp(g)) broken('best shift unreached')
          if (!xdfo.previous(go)) broken('sliding to blank line')
        }
      }
    }
    if (!xdf.next(g)) break
    if (!xdfo.next(go)) broken('moving to next group')
  }
  if (xdfo.next(go)) broken('at end of file')
}

/** xdl_build_script: the change list in file order. */
function buildScript(x1: Side, x2: Side): Change[] {
  const out: Change[] = []
  const c1 = x1.changed
  const c2 = x2.changed
  for (let i1 = x1.nrec, i2 = x2.nrec; i1 >= 0 || i2 >= 0; i1--, i2--) {
    if (c1[i1]! || c2[i2]!) {
      const l1 = i1
      const l2 = i2
      while (c1[i1]!) i1--
      while (c2[i2]!) i2--
      out.push({ i1, i2, chg1: l1 - i1, chg2: l2 - i2 })
    }
  }
  return out.reverse()
}

/** The edit script git computes between two record lists (Myers, default flags, indent heuristic on). */
export function diffRecords(a: string[], b: string[]): Change[] {
  const classes = new Map<string, number>()
  const classify = (recs: string[]): Int32Array => {
    const out = new Int32Array(recs.length)
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i]!
      let id = classes.get(r)
      if (id === undefined) {
        id = classes.size
        classes.set(r, id)
      }
      out[i] = id
    }
    return out
  }
  const x1 = newSide(classify(a))
  const x2 = newSide(classify(b))
  prepare(x1, x2, classes.size)

  const ndiags = x1.nreff + x2.nreff + 3
  const kvd = new Int32Array(2 * ndiags + 2)
  const env: Env = {
    mxcost: Math.max(bogosqrt(ndiags), MAX_COST_MIN),
    kvdf: kvd.subarray(0, ndiags),
    kvdb: kvd.subarray(ndiags),
    base: x2.nreff + 1,
  }
  recsCmp(x1, 0, x1.nreff, x2, 0, x2.nreff, false, env)
  changeCompact(new Compactor(x1, a), new Compactor(x2, b))
  changeCompact(new Compactor(x2, b), new Compactor(x1, a))
  return buildScript(x1, x2)
}
