/** Error texts repeat client strings exactly as sent, whatever characters they hold. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type LibvirtClient } from '../../src/libvirt/client.ts';
import { startFake, type FakeDaemon } from './helpers.ts';

describe('client strings in error texts', () => {
  let fake: FakeDaemon;
  let client: LibvirtClient;
  beforeAll(async () => {
    fake = await startFake();
    client = await connect(fake.uri);
  });
  afterAll(async () => {
    await client.close();
    await fake.close();
  });

  // String.replace would read `$'`, `$&` and `$$` in the detail as replacement patterns.
  it.each(["a$'b", 'a$&b', 'a$$b', 'a$`b'])('lookupByName(%s) names it verbatim', async (name) => {
    await expect(client.lookupByName(name)).rejects.toMatchObject({ message: `Domain not found: no domain with matching name '${name}'` });
  });
});
