/**
 * A fake AMD Key Distribution Service as msw request handlers, for the chips of the given hosts:
 *   GET https://kdsintf.amd.com/vcek/v1/{product}/cert_chain   → ASK then ARK, PEM
 *   GET https://kdsintf.amd.com/vcek/v1/{product}/crl          → the ARK's CRL, DER
 *   GET https://kdsintf.amd.com/vcek/v1/{product}/{hwid}?[fmcSPL=…&]blSPL=…&teeSPL=…&snpSPL=…&ucodeSPL=…
 *                                                              → the VCEK certificate, DER
 * Use them with msw's `setupServer(...kdsHandlers(hosts))` in-process, or over HTTP through
 * `startKdsServer` (`sevharness serve --kds-port`). Errors: a malformed hwid or TCB query is 400, an
 * unknown product or a chip this KDS does not know is 404 [inference: status codes of AMD's KDS
 * for these cases are not documented in the sources used; clients treat any non-200 as failure].
 */
import { http, HttpResponse, type HttpHandler } from 'msw';
import type { HardwareProfile } from '../profile/schema.ts';
import { KDS_PRODUCTS, snpProductByKds, tcbQueryNames, type KdsProduct, type TcbVersion } from '../firmware/snp/product.ts';
import { snpChipOf, type SnpChip } from '../firmware/snp/vcek.ts';
import { certChainPem, productRoots, vcekCertificate } from './certificates.ts';

export const KDS_ORIGIN = 'https://kdsintf.amd.com';

/** What the KDS answers with, by rule; tests compare against these texts. */
export const KDS_ERRORS = {
  unknownProduct: (p: string) => `unknown product '${p}'; this KDS serves ${KDS_PRODUCTS.join(', ')}`,
  badHwid: (p: KdsProduct, bytes: number) => `hwid must be ${bytes * 2} hex digits for ${p}`,
  unknownHwid: (p: KdsProduct) => `no ${p} chip with this hwid is known to this KDS`,
  badQuery: (names: readonly string[]) => `the query must give ${names.join(', ')} once each, as integers`,
  splRange: (name: string, max: number) => `${name} must be 0-${max}`,
} as const;

type HostLike = HardwareProfile | { readonly profile: HardwareProfile };

interface KnownChip {
  readonly chip: SnpChip;
  readonly stepping: number;
}

const text = (status: 400 | 404, body: string) => new HttpResponse(`${body}\n`, { status, headers: { 'content-type': 'text/plain' } });

function productOf(name: string | readonly string[] | undefined): KdsProduct | null {
  return KDS_PRODUCTS.find((p) => p === name) ?? null;
}

/** The query's TCB, or the refusal text. Microcode may reach 255; the other SPLs stop at 127. */
function parseTcb(product: KdsProduct, search: URLSearchParams): TcbVersion | string {
  const names = tcbQueryNames(snpProductByKds(product).tcbLayout);
  const given = [...search.keys()];
  if (given.length !== names.length || names.some((n) => search.getAll(n).length !== 1)) return KDS_ERRORS.badQuery(names);
  const values: Record<string, number> = {};
  for (const n of names) {
    const raw = search.get(n)!;
    if (!/^\d{1,3}$/.test(raw)) return KDS_ERRORS.badQuery(names);
    const v = Number(raw);
    const max = n === 'ucodeSPL' ? 255 : 127;
    if (v > max) return KDS_ERRORS.splRange(n, max);
    values[n] = v;
  }
  const base = { bootloader: values.blSPL!, tee: values.teeSPL!, snp: values.snpSPL!, microcode: values.ucodeSPL! };
  return values.fmcSPL === undefined ? base : { ...base, fmc: values.fmcSPL };
}

/** msw handlers of a KDS that knows the chips of `hosts` (profiles or FakeHosts). */
export function kdsHandlers(hosts: Iterable<HostLike>): HttpHandler[] {
  const chips = new Map<string, KnownChip>();
  for (const h of hosts) {
    const profile = 'profile' in h ? h.profile : h;
    const chip = snpChipOf(profile);
    if (chip) chips.set(`${chip.product.kds}/${chip.hwid}`, { chip, stepping: profile.cpu.stepping });
  }
  return [
    http.get(`${KDS_ORIGIN}/vcek/v1/:product/cert_chain`, async ({ params }) => {
      const product = productOf(params.product);
      if (!product) return text(404, KDS_ERRORS.unknownProduct(String(params.product)));
      return new HttpResponse(await certChainPem(product), { headers: { 'content-type': 'application/x-pem-file' } });
    }),
    http.get(`${KDS_ORIGIN}/vcek/v1/:product/crl`, async ({ params }) => {
      const product = productOf(params.product);
      if (!product) return text(404, KDS_ERRORS.unknownProduct(String(params.product)));
      const { crl } = await productRoots(product);
      return new HttpResponse(crl.rawData, { headers: { 'content-type': 'application/pkix-crl' } });
    }),
    http.get(`${KDS_ORIGIN}/vcek/v1/:product/:hwid`, async ({ params, request }) => {
      const product = productOf(params.product);
      if (!product) return text(404, KDS_ERRORS.unknownProduct(String(params.product)));
      const bytes = snpProductByKds(product).hwidBytes;
      const hwid = String(params.hwid);
      if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(hwid)) return text(400, KDS_ERRORS.badHwid(product, bytes));
      const tcb = parseTcb(product, new URL(request.url).searchParams);
      if (typeof tcb === 'string') return text(400, tcb);
      const known = chips.get(`${product}/${hwid.toLowerCase()}`);
      if (!known) return text(404, KDS_ERRORS.unknownHwid(product));
      const der = await vcekCertificate(known.chip, tcb, known.stepping);
      return new HttpResponse(der, { headers: { 'content-type': 'application/octet-stream' } });
    }),
  ];
}
