/** Connection URI parsing: socket selection and the name sent in CONNECT_OPEN. */
import { describe, expect, it } from 'vitest';
import { parseUri, UriError } from '../../src/libvirt/uri.ts';

describe('parseUri', () => {
  it('explicit socket: transport and socket stripped from the name', () => {
    expect(parseUri('qemu+unix:///system?socket=/tmp/fake.sock')).toEqual({
      driver: 'qemu',
      transport: 'unix',
      socketPath: '/tmp/fake.sock',
      name: 'qemu:///system',
    });
    expect(parseUri('test+unix:///default?socket=/tmp/x').name).toBe('test:///default');
  });

  it('qemu:///system prefers virtqemud-sock when it exists, else libvirt-sock', () => {
    const none = () => false;
    const modular = (p: string) => p === '/run/libvirt/virtqemud-sock';
    expect(parseUri('qemu:///system', { exists: none }).socketPath).toBe('/run/libvirt/libvirt-sock');
    expect(parseUri('qemu:///system', { exists: modular }).socketPath).toBe('/run/libvirt/virtqemud-sock');
    expect(parseUri('qemu:///system', { exists: none, readonly: true }).socketPath).toBe('/run/libvirt/libvirt-sock-ro');
    expect(parseUri('qemu:///system?mode=legacy', { exists: modular }).socketPath).toBe('/run/libvirt/libvirt-sock');
  });

  it('session URIs live under XDG_RUNTIME_DIR', () => {
    const p = parseUri('qemu:///session', { exists: () => false, env: { XDG_RUNTIME_DIR: '/run/user/1000' } });
    expect(p.socketPath).toBe('/run/user/1000/libvirt/libvirt-sock');
  });

  it('keeps server-side parameters, drops client ones', () => {
    expect(parseUri('qemu+unix:///system?socket=/s&no_tty=1&foo=bar').name).toBe('qemu:///system?foo=bar');
    expect(parseUri('qemu+unix:///system?socket=/s&name=qemu:///embed').name).toBe('qemu:///embed');
  });

  it('rejects network transports and garbage', () => {
    expect(() => parseUri('qemu+ssh://host/system')).toThrow(UriError);
    expect(() => parseUri('not a uri')).toThrow(UriError);
  });
});
