/**
 * A set of ids that stores a 64-bit hash of each id in typed arrays instead of the strings: about 16 bytes
 * an id, so checking 400,000 ids for duplicates costs a few MB instead of tens. A hit means "probably seen"
 * (a false hit has odds of about n²/2⁶⁵); callers confirm hits exactly before reporting them.
 */
export class CompactIdSet {
  private slots = new Uint32Array(2 * 1024);
  private used = new Uint8Array(1024);
  private count = 0;

  /** Adds the id; returns false when it (probably) was there already. */
  add(id: string): boolean {
    const [high, low] = hash64(id);
    if ((this.count + 1) * 2 > this.used.length) this.grow();
    return this.insert(high, low);
  }

  /** Whether the id (probably) was added: false is certain, true may rarely be a hash collision. */
  has(id: string): boolean {
    const [high, low] = hash64(id);
    const mask = this.used.length - 1;
    for (let slot = (low ^ high) & mask; ; slot = (slot + 1) & mask) {
      if (!this.used[slot]) return false;
      if (this.slots[2 * slot] === high && this.slots[2 * slot + 1] === low) return true;
    }
  }

  get size(): number {
    return this.count;
  }

  private insert(high: number, low: number): boolean {
    const mask = this.used.length - 1;
    for (let slot = (low ^ high) & mask; ; slot = (slot + 1) & mask) {
      if (!this.used[slot]) {
        this.used[slot] = 1;
        this.slots[2 * slot] = high;
        this.slots[2 * slot + 1] = low;
        this.count++;
        return true;
      }
      if (this.slots[2 * slot] === high && this.slots[2 * slot + 1] === low) return false;
    }
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldUsed = this.used;
    this.slots = new Uint32Array(oldSlots.length * 2);
    this.used = new Uint8Array(oldUsed.length * 2);
    this.count = 0;
    for (let slot = 0; slot < oldUsed.length; slot++) {
      if (oldUsed[slot]) this.insert(oldSlots[2 * slot]!, oldSlots[2 * slot + 1]!);
    }
  }
}

/** Two independent 32-bit FNV-1a hashes (different offset bases) over the UTF-16 code units. */
function hash64(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x01000193) ^ (b >>> 15);
  }
  return [a >>> 0, b >>> 0];
}
