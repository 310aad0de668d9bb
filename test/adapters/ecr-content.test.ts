/** Downloading a layer from the pre-signed URL ECR returns. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BlobTooLargeError, fetchViaHttps } from '../../lambdas/adapters/ecr-content';

describe('fetchViaHttps', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('returns the body of a 2xx answer', async () => {
    const fetchMock = vi.fn().mockResolvedValue(new Response('payload', { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);

    await expect(fetchViaHttps('https://blobs.test/x', 1024)).resolves.toEqual(new Uint8Array(Buffer.from('payload')));
    expect(fetchMock).toHaveBeenCalledWith('https://blobs.test/x');
  });

  it('throws on a non-2xx answer', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response('denied', { status: 403 })));

    await expect(fetchViaHttps('https://blobs.test/x', 1024)).rejects.toThrow('HTTP 403');
  });

  it('accepts a body of exactly the limit and refuses one byte more', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn().mockImplementation(async () => new Response(new Uint8Array(10), { status: 200 })),
    );

    await expect(fetchViaHttps('https://blobs.test/x', 10)).resolves.toHaveLength(10);
    await expect(fetchViaHttps('https://blobs.test/x', 9)).rejects.toThrow(BlobTooLargeError);
  });

  it('refuses a streamed body that grows past the limit', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(1024));
        controller.close();
      },
    });
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response(body, { status: 200 })));

    await expect(fetchViaHttps('https://blobs.test/x', 4000)).rejects.toThrow(/larger than 4000 bytes/);
  });

  it.each(['http://blobs.test/x', 'http://10.0.0.1/x', 'ftp://blobs.test/x', 'file:///etc/passwd'])('refuses %s', async (url) => {
    const fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);

    await expect(fetchViaHttps(url, 1024)).rejects.toThrow(/expected https/);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it.each(['http://127.0.0.1:4566/v2/blob', 'http://localhost:5000/v2/blob', 'http://[::1]:5000/v2/blob'])(
    'allows plain http to the loopback host of a local ECR emulator: %s',
    async (url) => {
      const fetchMock = vi.fn().mockResolvedValue(new Response('payload', { status: 200 }));
      vi.stubGlobal('fetch', fetchMock);

      await expect(fetchViaHttps(url, 1024)).resolves.toEqual(new Uint8Array(Buffer.from('payload')));
      expect(fetchMock).toHaveBeenCalledWith(url);
    },
  );
});
