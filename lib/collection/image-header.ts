// Image dimensions from the first bytes of an encoded file, recorded with each collection item.
// (The native decoder's header probe is to replace this sniffing.)

/** @internal Width and height from a PNG, JPEG, GIF or WebP header (null when unknown). */
export function imageSize(b: Uint8Array): { width: number; height: number } | null {
  const u16be = (o: number): number => ((b[o] as number) << 8) | (b[o + 1] as number);
  const u16le = (o: number): number => (b[o] as number) | ((b[o + 1] as number) << 8);
  if (b.length > 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return { width: v.getUint32(16), height: v.getUint32(20) };
  }
  if (b.length > 10 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return { width: u16le(6), height: u16le(8) };
  if (b.length > 30 && b[0] === 0x52 && b[1] === 0x49 && b[8] === 0x57 && b[9] === 0x45) {
    const chunk = String.fromCharCode(b[12] as number, b[13] as number, b[14] as number, b[15] as number);
    if (chunk === 'VP8X')
      return {
        width: 1 + (u16le(24) | ((b[26] as number) << 16)),
        height: 1 + (u16le(27) | ((b[29] as number) << 16)),
      };
    if (chunk === 'VP8 ') return { width: u16le(26) & 0x3fff, height: u16le(28) & 0x3fff };
    if (chunk === 'VP8L') {
      const bits = (b[21] as number) | ((b[22] as number) << 8) | ((b[23] as number) << 16) | ((b[24] as number) << 24);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
  }
  if (b.length > 4 && b[0] === 0xff && b[1] === 0xd8) {
    let o = 2;
    while (o + 9 < b.length) {
      if (b[o] !== 0xff) return null;
      const marker = b[o + 1] as number;
      const len = u16be(o + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: u16be(o + 7), height: u16be(o + 5) };
      }
      o += 2 + len;
    }
  }
  return null;
}
