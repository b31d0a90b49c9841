import { storageTone, thresholdBytes, usedPercent } from '../../admin/src/utils/storage';

const GB = 1024 ** 3;

describe('the storage bar\'s colour against spaceAlertBelow', () => {
  it('reads the threshold as bytes, or as a percentage of the volume', () => {
    expect(thresholdBytes({ total: 200 * GB }, '10%')).toBe(20 * GB);
    expect(thresholdBytes({ total: 200 * GB }, '2.5%')).toBe(5 * GB);
    expect(thresholdBytes({ total: 200 * GB }, 3 * GB)).toBe(3 * GB);
  });

  it('is danger below the threshold (the low-space alert), warning within twice it, success above', () => {
    const total = 100 * GB;
    expect(storageTone({ total, free: 9 * GB }, '10%')).toBe('danger');
    expect(storageTone({ total, free: 10 * GB }, '10%')).toBe('warning');
    expect(storageTone({ total, free: 19 * GB }, '10%')).toBe('warning');
    expect(storageTone({ total, free: 20 * GB }, '10%')).toBe('success');
    expect(storageTone({ total, free: GB / 2 }, GB)).toBe('danger');
    expect(storageTone({ total, free: 3 * GB }, GB)).toBe('success');
  });

  it('shows the used share of the volume, and nothing for a volume of unknown size', () => {
    expect(usedPercent({ total: 100 * GB, free: 25 * GB })).toBe(75);
    expect(usedPercent({ total: 0, free: 0 })).toBe(0);
  });
});
