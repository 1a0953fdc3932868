/** Domain checkpoint procedures (libvirt-domain-checkpoint.c). */
import { inGroup, untyped, write } from './define.ts';

export const CheckpointProcs = inGroup('checkpoint', {
  DOMAIN_CHECKPOINT_CREATE_XML: untyped(411, write('virDomainCheckpointCreateXML')),
  DOMAIN_CHECKPOINT_GET_XML_DESC: untyped(412),
  DOMAIN_LIST_ALL_CHECKPOINTS: untyped(413),
  DOMAIN_CHECKPOINT_LIST_ALL_CHILDREN: untyped(414),
  DOMAIN_CHECKPOINT_LOOKUP_BY_NAME: untyped(415),
  DOMAIN_CHECKPOINT_GET_PARENT: untyped(416),
  DOMAIN_CHECKPOINT_DELETE: untyped(417, write('virDomainCheckpointDelete')),
});
