import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cidrContains, formatCIDR, formatIP, isIPv4MappedValue, parseCIDR, parseCIDRSloppy, parseIP, parseIPSloppy, parsePrefixStrict, prefixMask } from './index.js';
import type { CIDR, Family } from './index.js';

const v4 = (text: string): bigint => {
  const ip = parseIP(text);
  assert.ok(ip && ip.family === 4, `${text} should parse as IPv4`);
  return ip.value;
};
const v6 = (text: string): bigint => {
  const ip = parseIP(text);
  assert.ok(ip && ip.family === 6, `${text} should parse as IPv6`);
  return ip.value;
};

describe('parseIP: IPv4', () => {
  test('accepts dotted quads 0-255', () => {
    assert.equal(v4('0.0.0.0'), 0n);
    assert.equal(v4('255.255.255.255'), 0xffffffffn);
    assert.equal(v4('10.1.2.3'), 0x0a010203n);
  });
  for (const bad of ['256.0.0.0', '01.2.3.4', '1.2.3.00', '1.2.3', '1.2.3.4.5', '1..2.3', '', ' 1.2.3.4', '1.2.3.4 ', '+1.2.3.4', '1.2.3.-4', '1.2.3.4/32', '0x1.2.3.4', '1.2.3.4:80']) {
    test(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseIP(bad), undefined));
  }
});

describe('parseIP: IPv6', () => {
  test('accepts the usual forms', () => {
    assert.equal(v6('::'), 0n);
    assert.equal(v6('::1'), 1n);
    assert.equal(v6('1::'), 1n << 112n);
    assert.equal(v6('2001:db8::1'), 0x20010db8000000000000000000000001n);
    assert.equal(v6('2001:DB8::1'), 0x20010db8000000000000000000000001n);
    assert.equal(v6('1:2:3:4:5:6:7:8'), 0x00010002000300040005000600070008n);
    assert.equal(v6('1:2:3:4:5:6:7::'), 0x00010002000300040005000600070000n);
    assert.equal(v6('::2:3:4:5:6:7:8'), 0x00000002000300040005000600070008n);
    assert.equal(v6('0001:0002:0003:0004:0005:0006:0007:0008'), 0x00010002000300040005000600070008n);
  });
  test('accepts an embedded IPv4 tail', () => {
    assert.equal(v6('64:ff9b::192.0.2.33'), 0x0064ff9b0000000000000000c0000221n);
    assert.equal(v6('::1.2.3.4'), 0x01020304n);
    assert.equal(v6('1:2:3:4:5:6:1.2.3.4'), 0x00010002000300040005000601020304n);
  });
  test('returns IPv4-mapped addresses as IPv4 (like Go To4)', () => {
    assert.deepEqual(parseIP('::ffff:1.2.3.4'), { family: 4, value: 0x01020304n });
    assert.deepEqual(parseIP('::FFFF:102:304'), { family: 4, value: 0x01020304n });
    assert.deepEqual(parseIP('0:0:0:0:0:ffff:a00:1'), { family: 4, value: 0x0a000001n });
  });
  for (const bad of [
    ':',
    ':::',
    '1:',
    ':1',
    '::1:',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7',
    '::1%eth0',
    'fe80::1%1',
    '[::1]',
    '12345::',
    '00000::1',
    '::10000',
    '::ffff:01.2.3.4',
    '::1.2.3',
    '1.2.3.4::',
    '1:2:3:4:5:6:7:1.2.3.4',
    '1:2:3:4:5:1.2.3.4',
    '::1.2.3.4:1',
    'g::1',
    '::-1',
  ]) {
    test(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseIP(bad), undefined));
  }
});

describe('parseIPSloppy (netutils.ParseIPSloppy)', () => {
  test('accepts leading zeros, read as decimal', () => {
    assert.deepEqual(parseIPSloppy('010.001.002.003'), { family: 4, value: 0x0a010203n });
    assert.deepEqual(parseIPSloppy('0000000000010.1.1.1'), { family: 4, value: 0x0a010101n });
    assert.deepEqual(parseIPSloppy('::00001'), { family: 6, value: 1n });
    assert.deepEqual(parseIPSloppy('::ffff:001.2.3.4'), { family: 4, value: 0x01020304n });
  });
  test('still rejects out-of-range values and garbage', () => {
    for (const bad of ['256.1.1.1', '0400.1.1.1', '::10000', '1.2.3', '', 'abc', '::1%eth0']) {
      assert.equal(parseIPSloppy(bad), undefined, bad);
    }
  });
});

describe('formatIP', () => {
  const cases: [string, string][] = [
    ['0.0.0.0', '0.0.0.0'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8::0001', '2001:db8::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['2001:DB8::ABCD', '2001:db8::abcd'],
    ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['::1.2.3.4', '::102:304'],
  ];
  for (const [input, want] of cases) {
    test(`${input} -> ${want}`, () => {
      const ip = parseIP(input);
      assert.ok(ip);
      assert.equal(formatIP(ip), want);
    });
  }
  test('IPv6 values inside ::ffff:0:0/96 print in mixed notation', () => {
    assert.equal(formatIP({ family: 6, value: 0xffff0a000001n }), '::ffff:10.0.0.1');
  });
});

describe('parseCIDR (ParseCIDRSloppy semantics)', () => {
  const ok: [string, string][] = [
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['010.000.000.000/08', '10.0.0.0/8'],
    ['192.168.1.1/32', '192.168.1.1/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['2001:DB8::1/64', '2001:db8::/64'],
    ['::/0', '::/0'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:1.2.3.4/24', '::/24'],
    ['::ffff:0:0/96', '0.0.0.0/0'],
  ];
  for (const [input, want] of ok) {
    test(`${input} -> ${want}`, () => {
      const c = parseCIDR(input);
      assert.ok(c, input);
      assert.equal(formatCIDR(c), want);
    });
  }
  for (const bad of ['10.0.0.0', '10.0.0.0/', '10.0.0.0/33', '10.0.0.0/+8', '10.0.0.0/ 8', '10.0.0.0/8/8', '::/129', '/8', '10.0.0/8', 'a/8', '::1%eth0/64']) {
    test(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseCIDR(bad), undefined));
  }
  test('parseCIDRSloppy keeps the written address and mask size', () => {
    const s = parseCIDRSloppy('::ffff:10.1.2.3/104');
    assert.ok(s);
    assert.equal(s.maskBits, 104);
    assert.deepEqual(s.address, { family: 4, value: 0x0a010203n });
    assert.deepEqual(s.network, { family: 4, base: 0x0a000000n, prefix: 8 });
    assert.equal(s.writtenFamily, 6);
    assert.equal(s.hostBitsSet, true);
  });
  test('parseCIDRSloppy tells whether the written address has host bits', () => {
    assert.equal(parseCIDRSloppy('172.17.0.1/24')?.hostBitsSet, true);
    assert.equal(parseCIDRSloppy('172.17.0.1/24')?.writtenFamily, 4);
    assert.equal(parseCIDRSloppy('010.0.0.0/08')?.hostBitsSet, false);
    assert.equal(parseCIDRSloppy('::ffff:10.0.0.0/104')?.hostBitsSet, false);
    assert.equal(parseCIDRSloppy('2001:db8::1/128')?.hostBitsSet, false);
    assert.equal(parseCIDRSloppy('2001:db8::1/127')?.hostBitsSet, true);
  });
});

describe('parsePrefixStrict (netip.ParsePrefix)', () => {
  test('rejects leading zeros in the address or the prefix length', () => {
    assert.equal(parsePrefixStrict('010.0.0.0/8'), undefined);
    assert.equal(parsePrefixStrict('10.0.0.0/08'), undefined);
    assert.equal(parsePrefixStrict('10.0.0.0/+8'), undefined);
    assert.equal(parsePrefixStrict('00001::/64'), undefined);
  });
  test('reports host bits and IPv4-mapped addresses', () => {
    assert.equal(parsePrefixStrict('10.0.0.1/8')?.hostBitsSet, true);
    assert.equal(parsePrefixStrict('10.0.0.0/8')?.hostBitsSet, false);
    assert.equal(parsePrefixStrict('2001:db8::1/64')?.hostBitsSet, true);
    assert.equal(parsePrefixStrict('::ffff:10.0.0.0/104')?.ipv4Mapped, true);
    assert.equal(parsePrefixStrict('::ffff:10.0.0.0/104')?.family, 6);
    assert.equal(parsePrefixStrict('10.0.0.0/0')?.prefix, 0);
  });
});

describe('cidrContains', () => {
  test('matches by family and masked prefix', () => {
    const net = parseCIDR('10.0.0.0/8') as CIDR;
    assert.equal(cidrContains(net, parseIP('10.255.255.255')!), true);
    assert.equal(cidrContains(net, parseIP('11.0.0.0')!), false);
    assert.equal(cidrContains(net, parseIP('::ffff:10.1.1.1')!), true);
    assert.equal(cidrContains(parseCIDR('::/0')!, parseIP('1.2.3.4')!), false);
    assert.equal(cidrContains(parseCIDR('0.0.0.0/0')!, parseIP('::1')!), false);
  });
});

// ---- properties ----

const v4Value = fc.bigInt({ min: 0n, max: 0xffffffffn });
const v6Value = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
const family = fc.constantFrom<Family>(4, 6);

describe('properties', () => {
  test('IPv4 format/parse round-trip', () => {
    fc.assert(
      fc.property(v4Value, (value) => {
        assert.deepEqual(parseIP(formatIP({ family: 4, value })), { family: 4, value });
      }),
    );
  });

  test('IPv6 format/parse round-trip (mapped addresses come back as IPv4)', () => {
    fc.assert(
      fc.property(v6Value, (value) => {
        const back = parseIP(formatIP({ family: 6, value }));
        if (isIPv4MappedValue(value)) assert.deepEqual(back, { family: 4, value: value & 0xffffffffn });
        else assert.deepEqual(back, { family: 6, value });
      }),
    );
  });

  test('IPv6 canonical form is the shortest of the equivalent spellings we generate', () => {
    fc.assert(
      fc.property(
        v6Value.filter((v) => !isIPv4MappedValue(v)),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        fc.nat(3),
        (value, upper, pad) => {
          // Full eight-group spelling with extra leading zeros and random case.
          const groups = [...Array(8).keys()].map((k) => {
            const g = ((value >> BigInt((7 - k) * 16)) & 0xffffn).toString(16);
            const padded = g.padStart(Math.min(4, g.length + pad), '0');
            return upper[k] ? padded.toUpperCase() : padded;
          });
          const full = groups.join(':');
          assert.deepEqual(parseIP(full), { family: 6, value });
          const canonical = formatIP({ family: 6, value });
          assert.ok(canonical.length <= full.length);
          assert.equal(canonical, canonical.toLowerCase());
          assert.ok(!/(^|:)0[0-9a-f]/.test(canonical), `no leading zeros in ${canonical}`);
        },
      ),
    );
  });

  test('leading zeros: sloppy reads them as decimal, strict rejects', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(255), { minLength: 4, maxLength: 4 }), fc.nat(3), (octets, k) => {
        const text = octets.map((o, i) => (i === k ? `0${o}` : String(o))).join('.');
        const want = octets.reduce((acc, o) => acc * 256n + BigInt(o), 0n);
        assert.deepEqual(parseIPSloppy(text), { family: 4, value: want });
        assert.equal(parseIP(text), undefined);
      }),
    );
  });

  const cidrArb = family.chain((f) =>
    fc
      .record({ value: f === 4 ? v4Value : v6Value, prefix: fc.integer({ min: 0, max: f === 4 ? 32 : 128 }) })
      .map(({ value, prefix }): CIDR => ({ family: f, base: value & prefixMask(f, prefix), prefix }))
      .filter((c) => !(c.family === 6 && c.prefix >= 96 && isIPv4MappedValue(c.base))),
  );

  test('CIDR format/parse round-trip', () => {
    fc.assert(
      fc.property(cidrArb, (c) => {
        assert.deepEqual(parseCIDR(formatCIDR(c)), c);
      }),
    );
  });

  test('parseCIDR masks the host bits of the written address', () => {
    fc.assert(
      fc.property(family, v6Value, fc.nat(128), (f, raw, p) => {
        const bits = f === 4 ? 32 : 128;
        const value = f === 4 ? raw & 0xffffffffn : raw;
        const prefix = p % (bits + 1);
        if (f === 6 && isIPv4MappedValue(value)) return;
        const c = parseCIDR(`${formatIP({ family: f, value })}/${prefix}`);
        assert.ok(c);
        assert.equal(c.base, value & prefixMask(f, prefix));
      }),
    );
  });

  test('cidrContains agrees with a naive bit-string comparison', () => {
    fc.assert(
      fc.property(cidrArb, v6Value, (c, raw) => {
        const bits = c.family === 4 ? 32 : 128;
        const value = c.family === 4 ? raw & 0xffffffffn : raw;
        const bin = (v: bigint): string => v.toString(2).padStart(bits, '0');
        const naive = bin(value).slice(0, c.prefix) === bin(c.base).slice(0, c.prefix);
        assert.equal(cidrContains(c, { family: c.family, value }), naive);
        // The network's own first address is always inside.
        assert.equal(cidrContains(c, { family: c.family, value: c.base }), true);
      }),
    );
  });
});
