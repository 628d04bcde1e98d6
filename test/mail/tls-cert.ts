// A self-signed certificate for 127.0.0.1, made by the system's openssl into a temp directory at
// test time: no key material is ever committed. The certificate is its own CA, so a client pins it
// with smtp.tlsCaFile.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

export interface TestCertificate {
  /** PEM private key and certificate, for the sink. */
  key: string
  cert: string
  /** Absolute path of the certificate's PEM file: what smtp.tlsCaFile names. */
  certFile: string
  remove(): void
}

export async function makeCertificate(): Promise<TestCertificate> {
  const dir = mkdtempSync(join(tmpdir(), 'standin-tls-'))
  const keyFile = join(dir, 'key.pem')
  const certFile = join(dir, 'cert.pem')
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1']
  args.push('-keyout', keyFile, '-out', certFile, '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost')
  await promisify(execFile)('/usr/bin/openssl', args, { timeout: 20_000 })
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
