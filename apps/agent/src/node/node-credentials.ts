import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What the agent keeps after joining: who it is and how it signs. */
export interface NodeCredential {
  server: string;
  nodeId: string;
  nodeName: string;
  accessKey: string;
  secretKey: string;
}

const FILE = 'node-credential.json';

/** The node credential in the data directory, readable by the agent's user only (0600, in a 0700 directory). */
export class NodeCredentialFile {
  readonly path: string;

  constructor(private readonly dataDir: string) {
    this.path = join(dataDir, FILE);
  }

  async read(): Promise<NodeCredential | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const c = JSON.parse(text) as Partial<NodeCredential>;
    if (!c.nodeId || !c.nodeName || !c.accessKey || !c.secretKey || !c.server) throw new Error(`${this.path} is not a node credential: remove it and join again with a join token`);
    return c as NodeCredential;
  }

  /** Written to a temporary file first, so a crash never leaves half a credential. */
  async write(c: NodeCredential): Promise<void> {
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.path);
  }
}
