/** Starting, stopping, pausing and saving domains, and their SEV launch security. */
import type { HandlerTable } from '../context.ts';
import { fromWire, toWire } from '../wire.ts';

export const lifecycleHandlers: HandlerTable = {
  DOMAIN_CREATE: ({ host }, { dom }) => void host.create(fromWire(dom), 0),
  DOMAIN_CREATE_WITH_FLAGS: ({ host }, { dom, flags }) => ({ dom: toWire(host.create(fromWire(dom), flags)) }),
  DOMAIN_CREATE_XML: ({ host }, { xml_desc, flags }) => ({ dom: toWire(host.createXML(xml_desc, flags)) }),
  DOMAIN_DESTROY: ({ host }, { dom }) => host.destroy(fromWire(dom)),
  DOMAIN_DESTROY_FLAGS: ({ host }, { dom, flags }) => host.destroy(fromWire(dom), flags),
  DOMAIN_SHUTDOWN: ({ host }, { dom }) => host.shutdown(fromWire(dom)),
  DOMAIN_SHUTDOWN_FLAGS: ({ host }, { dom, flags }) => host.shutdown(fromWire(dom), flags),
  DOMAIN_REBOOT: ({ host }, { dom, flags }) => host.reboot(fromWire(dom), flags),
  DOMAIN_RESET: ({ host }, { dom, flags }) => host.reset(fromWire(dom), flags),
  DOMAIN_SUSPEND: ({ host }, { dom }) => host.suspend(fromWire(dom)),
  DOMAIN_RESUME: ({ host }, { dom }) => host.resume(fromWire(dom)),

  DOMAIN_MANAGED_SAVE: ({ host }, { dom }) => host.managedSave(fromWire(dom)),
  DOMAIN_MANAGED_SAVE_REMOVE: ({ host }, { dom }) => host.managedSaveRemove(fromWire(dom)),
  DOMAIN_SAVE: ({ host }, { dom, to }) => host.save(fromWire(dom), to),
  DOMAIN_SAVE_FLAGS: ({ host }, { dom, to }) => host.save(fromWire(dom), to),
  DOMAIN_RESTORE: ({ host }, a) => void host.restore(a.from),
  DOMAIN_RESTORE_FLAGS: ({ host }, a) => void host.restore(a.from),

  DOMAIN_GET_JOB_INFO: ({ host }, { dom }) => host.getJobInfo(fromWire(dom)),
  DOMAIN_GET_JOB_STATS: ({ host }, { dom }) => host.getJobStats(fromWire(dom)),

  DOMAIN_GET_LAUNCH_SECURITY_INFO: ({ host }, { dom }) => ({ params: host.launchSecurityInfo(fromWire(dom)) }),
  DOMAIN_SET_LAUNCH_SECURITY_STATE: ({ host }, { dom, params }) => host.setLaunchSecurityState(fromWire(dom), params),
};
