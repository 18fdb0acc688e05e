// The parts of s3rver 3.7 (no bundled types) that test/helpers/s3rver-main.ts uses.
declare module "s3rver" {
  export default class S3rver {
    constructor(options: {
      address?: string;
      port?: number;
      silent?: boolean;
      directory?: string;
      vhostBuckets?: boolean;
      configureBuckets?: { name: string }[];
    });
    run(): Promise<{ address: string; port: number }>;
    callback(): (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => unknown;
    close(): Promise<void>;
  }
}
declare module "s3rver/lib/models/account.js" {
  const AWSAccount: {
    DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void; revokeAccessKey(accessKeyId: string): void };
  };
  export default AWSAccount;
}
