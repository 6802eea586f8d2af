import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AllocatorError, ServiceIPAllocator } from './allocator.js';
import { ipToInt } from './cidr.js';

describe('ServiceIPAllocator', () => {
  it('KEP-3070 bands: offset = min(max(16, size/16), 256)', () => {
    assert.equal(new ServiceIPAllocator('10.96.0.0/12').offset, 256);
    assert.equal(new ServiceIPAllocator('10.96.0.0/24').offset, 16);
    assert.equal(new ServiceIPAllocator('10.96.0.0/20').offset, 255);
    assert.equal(new ServiceIPAllocator('10.96.0.0/24').size, 254);
  });

  it('dynamic allocation takes the upper band first, then the static band', () => {
    const a = new ServiceIPAllocator('10.0.0.0/24');
    const base = ipToInt('10.0.0.1')!;
    const first = Array.from({ length: 238 }, () => ipToInt(a.allocateNext())! - base);
    assert.ok(first.every((i) => i >= 16), 'upper band first');
    assert.equal(new Set(first).size, 238);
    const rest = Array.from({ length: 16 }, () => ipToInt(a.allocateNext())! - base);
    assert.ok(rest.every((i) => i < 16));
    assert.throws(() => a.allocateNext(), (e: unknown) => e instanceof AllocatorError && e.code === 'Full');
  });

  it('random start position in the dynamic band', () => {
    const picks = new Set(Array.from({ length: 20 }, () => new ServiceIPAllocator('10.96.0.0/12').allocateNext()));
    assert.ok(picks.size > 10);
  });

  it('specific allocation: range check and duplicates with Kubernetes wording; reservations', () => {
    const a = new ServiceIPAllocator('10.96.0.0/12', { reserved: { '10.96.0.10': 'kube-system/kube-dns' } });
    a.allocate('10.96.5.5');
    assert.throws(() => a.allocate('10.96.5.5'), { message: 'provided IP is already allocated' });
    assert.throws(() => a.allocate('1.1.1.1'), { message: 'the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12' });
    assert.throws(() => a.allocate('10.96.0.0'), { message: /not in the valid range/ }, 'network address');
    assert.throws(() => a.allocate('10.111.255.255'), { message: /not in the valid range/ }, 'broadcast address');
    assert.throws(() => a.allocate('10.96.0.10', 'default/other'), { message: 'provided IP is already allocated' });
    a.allocate('10.96.0.10', 'kube-system/kube-dns');
    a.release('10.96.5.5');
    assert.equal(a.has('10.96.5.5'), false);
    a.allocate('10.96.5.5');
  });

  it('dynamic allocation never hands out reserved addresses', () => {
    const a = new ServiceIPAllocator('10.0.0.0/27', { reserved: { '10.0.0.1': 'default/kubernetes', '10.0.0.10': 'kube-system/kube-dns' } });
    const got = new Set<string>();
    for (;;) {
      try { got.add(a.allocateNext()); } catch { break; }
    }
    assert.equal(got.size, 30 - 2);
    assert.ok(!got.has('10.0.0.1') && !got.has('10.0.0.10'));
  });
});
