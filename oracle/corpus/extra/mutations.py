"""Single mutations of one virt-install-style guest (mutations-base.xml): each element removed, each
attribute set to bad values or removed, each text set to bad values. Written to test the fake on
inputs nobody tuned it against. Run: /usr/bin/python3 oracle/corpus/extra/mutations.py"""
import json, os, xml.dom.minidom
HERE = os.path.dirname(os.path.abspath(__file__))
BASE = open(os.path.join(HERE, 'mutations-base.xml')).read()
out=[]
doc = xml.dom.minidom.parseString(BASE)
def walk(n, path):
    for i,c in enumerate([c for c in n.childNodes if c.nodeType==1]):
        yield c, f"{path}/{c.tagName}[{i}]"
        yield from walk(c, f"{path}/{c.tagName}[{i}]")
elems=list(walk(doc.documentElement,'domain'))
for el,p in elems:
    # remove the element
    d=doc.cloneNode(True); e=[x for x,q in walk(d.documentElement,'domain') if q==p][0]; e.parentNode.removeChild(e)
    out.append({'id':f'rm{p}','group':'mut','xml':d.documentElement.toxml()})
    for a in list(el.attributes.keys()):
        for v in ['bogus','','-1','99999999999']:
            d=doc.cloneNode(True); e=[x for x,q in walk(d.documentElement,'domain') if q==p][0]; e.setAttribute(a,v)
            out.append({'id':f'attr{p}@{a}={v}','group':'mut','xml':d.documentElement.toxml()})
        d=doc.cloneNode(True); e=[x for x,q in walk(d.documentElement,'domain') if q==p][0]; e.removeAttribute(a)
        out.append({'id':f'noattr{p}@{a}','group':'mut','xml':d.documentElement.toxml()})
    t=''.join(c.data for c in el.childNodes if c.nodeType==3).strip()
    if t:
        for v in ['bogus','','-5']:
            d=doc.cloneNode(True); e=[x for x,q in walk(d.documentElement,'domain') if q==p][0]
            for c in list(e.childNodes):
                if c.nodeType==3: e.removeChild(c)
            e.appendChild(d.createTextNode(v))
            out.append({'id':f'text{p}={v}','group':'mut','xml':d.documentElement.toxml()})
open(os.path.join(HERE, 'mutations.jsonl'), 'w').write(''.join(json.dumps(o)+'\n' for o in out))
print(len(out))
