import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MEASUREMENT_BLOB_LEN,
  launchDigest,
  launchMeasure,
  launchMeasurement,
  LaunchDigest,
  markUnchanging,
  secretMac,
  unchangingSha256,
  verifyMeasurement,
  verifySecretMac,
} from '../../fakelibvirt/firmware/measurement.ts';

const tik = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
const ovmf = Buffer.from('OVMF'.repeat(1024));
const hashes = Buffer.from('hashes-table');
const mnonce = Buffer.alloc(16, 0xa5);

describe('launch digest', () => {
  it('is SHA-256 over every LAUNCH_UPDATE buffer in order', () => {
    const d = launchDigest([ovmf, hashes]);
    expect(d.toString('hex')).toBe('719d42c863b651f75c0ea6c55acd532bd07d70c0ad3af8568bce2fbb97a26941');
    expect(d).toEqual(createHash('sha256').update(Buffer.concat([ovmf, hashes])).digest());
    expect(launchDigest([hashes, ovmf])).not.toEqual(d);
  });

  it('an unchanging first buffer reuses its hash state and still gives the same digests', () => {
    const image = markUnchanging(Buffer.from('FIRMWARE'.repeat(4096)));
    const plain = (tail: Buffer[]) => createHash('sha256').update(Buffer.concat([image, ...tail])).digest();
    // First use computes and keeps the state, later ones resume from it; the tails differ.
    expect(launchDigest([image, hashes])).toEqual(plain([hashes]));
    expect(launchDigest([image])).toEqual(plain([]));
    expect(launchDigest([image, ovmf, hashes])).toEqual(plain([ovmf, hashes]));
    // Not first: hashed as usual.
    expect(launchDigest([hashes, image])).toEqual(createHash('sha256').update(Buffer.concat([hashes, image])).digest());
  });

  it('sequences of unchanging buffers share their hashing and still give the plain digests', () => {
    const image = markUnchanging(Buffer.from('IMAGE'.repeat(8192)));
    const bsp = markUnchanging(Buffer.alloc(4096, 0x0b));
    const ap = markUnchanging(Buffer.alloc(4096, 0x0a));
    const plain = (chunks: Buffer[]) => createHash('sha256').update(Buffer.concat(chunks)).digest();
    const sequences = [[image, bsp], [image, bsp, ap], [image, bsp, ap, ap], [image, bsp, ap], [image], [image, ap, bsp], [bsp, image], [image, bsp, ap, hashes], [image, hashes, bsp]];
    // Twice over: the second round is answered from the chain.
    for (const round of [1, 2]) {
      for (const seq of sequences) expect(launchDigest(seq), `round ${round}: ${seq.length} buffers`).toEqual(plain(seq));
    }
    // An image's own SHA-256 is the chain's first link; a buffer not declared unchanging is hashed as is.
    expect(unchangingSha256(image)).toBe(plain([image]).toString('hex'));
    expect(unchangingSha256(hashes)).toBe(plain([hashes]).toString('hex'));
    // LAUNCH_MEASURE seals the digest: nothing more may be fed, its value comes when asked for.
    const sealed = new LaunchDigest();
    sealed.update(image);
    sealed.seal();
    expect(() => sealed.update(bsp)).toThrow('already finalised');
    expect(sealed.digest()).toEqual(plain([image]));
    // A digest handed out is the caller's own: changing it changes no later one.
    const d = launchDigest([image, bsp]);
    d.fill(0);
    expect(launchDigest([image, bsp])).toEqual(plain([image, bsp]));
  });
});

describe('launch measurement', () => {
  const digest = launchDigest([ovmf, hashes]);
  const input = { apiMajor: 1, apiMinor: 52, build: 4, policy: 0x0033, digest, mnonce, tik };

  it('matches an independently computed vector (Python hmac)', () => {
    expect(launchMeasure(input).toString('hex')).toBe('c5b10038c7b05656a35f270a08ca2355722fc84f67695590fa33591e7abffc8e');
  });

  it('is HMAC-SHA256(TIK, 04 | major | minor | build | policy LE | digest | mnonce), assembled by hand', () => {
    const bytes = Buffer.concat([Buffer.from([0x04, 1, 52, 4, 0x33, 0x00, 0x00, 0x00]), digest, mnonce]);
    expect(bytes.length).toBe(8 + 32 + 16);
    expect(launchMeasure(input)).toEqual(createHmac('sha256', tik).update(bytes).digest());
  });

  it('returns the 48-byte MEASURE | MNONCE blob', () => {
    const blob = launchMeasurement(input);
    expect(blob.length).toBe(MEASUREMENT_BLOB_LEN);
    expect(blob.subarray(32)).toEqual(mnonce);
  });

  it('lets a guest owner verify, and catches any change', () => {
    const blob = launchMeasurement(input);
    const { mnonce: _m, ...owner } = input;
    expect(verifyMeasurement(owner, blob)).toBe(true);
    expect(verifyMeasurement({ ...owner, policy: 0x37 }, blob)).toBe(false);
    expect(verifyMeasurement({ ...owner, build: 5 }, blob)).toBe(false);
    expect(verifyMeasurement({ ...owner, digest: launchDigest([ovmf]) }, blob)).toBe(false);
    expect(verifyMeasurement({ ...owner, tik: Buffer.alloc(16) }, blob)).toBe(false);
    expect(verifyMeasurement(owner, blob.subarray(0, 40))).toBe(false);
  });

  it('rejects malformed inputs', () => {
    expect(() => launchMeasure({ ...input, mnonce: Buffer.alloc(8) })).toThrow('mnonce must be 16 bytes (got 8)');
    expect(() => launchMeasure({ ...input, digest: Buffer.alloc(31) })).toThrow(RangeError);
  });
});

describe('LAUNCH_SECRET packet MAC', () => {
  const measure = launchMeasure({ apiMajor: 1, apiMinor: 52, build: 4, policy: 0x33, digest: launchDigest([ovmf, hashes]), mnonce, tik });
  const iv = Buffer.from(Array.from({ length: 16 }, (_, i) => 16 + i));
  const ciphertext = Buffer.from(Array.from({ length: 32 }, (_, i) => (i % 4) + 1));

  it('matches an independently computed vector', () => {
    expect(ciphertext.length).toBe(32);
    expect(secretMac({ tik, flags: 0, iv, ciphertext, measure }).toString('hex')).toBe(
      '3a462a7a91b3bfd1355e71385572d246c555c9ba8731d4bcb7cd5584991cd1a9',
    );
  });

  it('binds flags, iv, lengths, ciphertext and MEASURE', () => {
    const mac = secretMac({ tik, flags: 0, iv, ciphertext, measure });
    expect(verifySecretMac({ tik, flags: 0, iv, ciphertext, measure }, mac)).toBe(true);
    expect(verifySecretMac({ tik, flags: 1, iv, ciphertext, measure }, mac)).toBe(false);
    expect(verifySecretMac({ tik, flags: 0, iv, ciphertext, measure, guestLen: 64 }, mac)).toBe(false);
    expect(verifySecretMac({ tik, flags: 0, iv, ciphertext, measure: Buffer.alloc(32) }, mac)).toBe(false);
    expect(verifySecretMac({ tik, flags: 0, iv, ciphertext, measure }, mac.subarray(1))).toBe(false);
  });

  it('works with a real AES-128-CTR ciphertext', () => {
    const tek = Buffer.alloc(16, 7);
    const c = createCipheriv('aes-128-ctr', tek, iv);
    const ct = Buffer.concat([c.update('disk passphrase'), c.final()]);
    expect(verifySecretMac({ tik, flags: 0, iv, ciphertext: ct, measure }, secretMac({ tik, flags: 0, iv, ciphertext: ct, measure }))).toBe(true);
  });
});
