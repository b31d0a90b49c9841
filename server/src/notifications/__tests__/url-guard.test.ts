import { internalTargetReason, isInternalAddress } from '../url-guard';

describe('webhook URLs set in the admin panel (production)', () => {
  it('tells internal addresses from public ones, v4, v6 and v4-mapped', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1']) {
      expect([ip, isInternalAddress(ip)]).toEqual([ip, true]);
    }
    for (const ip of ['8.8.8.8', '172.32.0.1', '193.147.1.1', '2001:4860:4860::8888', '::ffff:8.8.8.8']) {
      expect([ip, isInternalAddress(ip)]).toEqual([ip, false]);
    }
  });

  it('refuses localhost, internal literals and names that resolve inside; lets public names through', async () => {
    const resolver = (table: Record<string, string[]>) =>
      (async (host: string) => {
        if (!table[host]) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
        return table[host].map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
      }) as never;
    const dns = resolver({ 'hooks.example.com': ['93.184.215.14'], 'metadata.internal.example': ['169.254.169.254'], 'dual.example': ['93.184.215.14', '::1'] });
    expect(await internalTargetReason('http://localhost:8080/x', dns)).toBe('localhost is this server');
    expect(await internalTargetReason('http://127.0.0.1/x', dns)).toBe('127.0.0.1 is an internal address');
    expect(await internalTargetReason('http://[::1]:9000/x', dns)).toBe('::1 is an internal address');
    expect(await internalTargetReason('https://metadata.internal.example/latest', dns)).toBe('metadata.internal.example resolves to the internal address 169.254.169.254');
    expect(await internalTargetReason('https://dual.example/', dns)).toBe('dual.example resolves to the internal address ::1');
    expect(await internalTargetReason('https://hooks.example.com/backups?token=x', dns)).toBeNull();
    expect(await internalTargetReason('https://nowhere.example/', dns)).toBeNull();
  });
});
