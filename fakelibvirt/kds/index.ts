/**
 * `sevharness/kds`: a fake AMD Key Distribution Service for the fake hosts' chips: VCEKs with
 * AMD's extensions, the ASK/ARK chain and the CRL, under fixed fake keys named FAKE (nothing chains
 * to AMD's roots). In-process as msw handlers, or on loopback HTTP for other languages.
 *
 *   import { setupServer } from 'msw/node';
 *   import { KDS_ORIGIN, kdsHandlers } from 'sevharness/kds';
 *   setupServer(...kdsHandlers([host])).listen();
 *   await fetch(`${KDS_ORIGIN}/vcek/v1/Genoa/cert_chain`);
 *
 * A separate entry: it loads msw and @peculiar/x509 (whose reflect-metadata changes the global
 * Reflect), which `sevharness` itself does not need.
 */
export { KDS_ORIGIN, KDS_ERRORS, kdsHandlers } from './handlers.ts';
export { startKdsServer, type KdsServer } from './http-server.ts';
export { decodeReport, reportSignatureP1363, SIGNED_LENGTH, REPORT_SIZE, type AttestationReport } from '../firmware/snp/attestation-report.ts';
export { decodeTcb, tcbQuery, type TcbVersion, type TcbLayout, type KdsProduct } from '../firmware/snp/product.ts';
