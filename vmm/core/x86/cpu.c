/*
 * x86 vCPU state: CPUID with a per-vCPU topology, the MSRs and FPU state a
 * PC has at reset, LAPIC LINT pins, the 64-bit entry state for Linux,
 * and the registers vcpu_dump shows.
 */
#include "boot/x86/linux.h"
#include "vmm/base/gmem.h"
#include "vmm/base/log.h"
#include "vmm/core/arch.h"
#include "vmm/core/kvm.h"
#include "vmm/core/vcpu.h"
#include "vmm/core/x86/x86.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#define CPUID_HYPERVISOR  (1u << 31)  /* leaf 1 ECX */
#define CPUID_HTT         (1u << 28)  /* leaf 1 EDX */
#define CPUID_TSC_DEADLINE (1u << 24) /* leaf 1 ECX */

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

/* One socket, ncpus cores, one thread per core; APIC ID == vCPU index. */
static void patch_topology(struct kvm_cpuid_entry2 *e, unsigned id, unsigned ncpus)
{
	unsigned shift = bits_for(ncpus);

	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0x0000ffff) | (id << 24) | ((ncpus & 0xff) << 16);
		e->ecx |= CPUID_HYPERVISOR;
		if (ncpus > 1)
			e->edx |= CPUID_HTT;
		break;
	case 4:
		/* Cores per package - 1 in EAX[31:26], keep the cache description. */
		e->eax = (e->eax & 0x03ffffff) | ((ncpus - 1) << 26);
		break;
	case 0xb:
	case 0x1f:
		e->edx = id;
		if (e->index == 0) {            /* SMT level: one thread */
			e->eax = 0;
			e->ebx = 1;
			e->ecx = 1u << 8 | 0;
		} else if (e->index == 1) {     /* core level */
			e->eax = shift;
			e->ebx = ncpus;
			e->ecx = 2u << 8 | 1;
		} else {
			e->eax = e->ebx = 0;
			e->ecx = e->index;
		}
		break;
	case 0x80000008:
		/* AMD: number of cores - 1, and the APIC ID width. */
		e->ecx = (e->ecx & ~0xf0ffu) | (shift << 12) | ((ncpus - 1) & 0xff);
		break;
	}
}

static int setup_cpuid(struct vcpu *c, unsigned ncpus)
{
	const struct kvm_cpuid2 *sup = c->env->arch->cpuid;
	size_t sz = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *mine = malloc(sz);

	if (!mine)
		return -ENOMEM;
	memcpy(mine, sup, sz);
	for (unsigned i = 0; i < mine->nent; i++)
		patch_topology(&mine->entries[i], c->id, ncpus);
	int r = KVM_IOCTL(c->fd, KVM_SET_CPUID2, mine);
	free(mine);
	return r < 0 ? r : 0;
}

#define MSR_IA32_SYSENTER_CS   0x174
#define MSR_IA32_SYSENTER_ESP  0x175
#define MSR_IA32_SYSENTER_EIP  0x176
#define MSR_IA32_MISC_ENABLE   0x1a0
#define MSR_MTRR_DEF_TYPE      0x2ff
#define MSR_STAR               0xc0000081
#define MSR_LSTAR              0xc0000082
#define MSR_CSTAR              0xc0000083
#define MSR_SYSCALL_MASK       0xc0000084
#define MSR_KERNEL_GS_BASE     0xc0000102
#define MSR_IA32_TSC           0x10

static int setup_msrs(struct vcpu *c)
{
	static const struct { uint32_t index; uint64_t data; } init[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 }, { MSR_SYSCALL_MASK, 0 }, { MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_TSC, 0 },
		{ MSR_IA32_MISC_ENABLE, 1 },            /* fast string operations */
		/* MTRRs enabled, default type write-back: without this the guest
		 * treats all RAM as uncacheable and runs very slowly. */
		{ MSR_MTRR_DEF_TYPE, (1u << 11) | 6 },
	};
	enum { N = sizeof(init) / sizeof(init[0]) };
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[N];
	} m;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = N;
	for (unsigned i = 0; i < N; i++) {
		m.e[i].index = init[i].index;
		m.e[i].data = init[i].data;
	}
	int r = KVM_IOCTL(c->fd, KVM_SET_MSRS, &m);
	if (r >= 0 && r != N)
		return -EINVAL;   /* KVM stops at the first MSR it refuses */
	return r < 0 ? r : 0;
}

static int setup_fpu(struct vcpu *c)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;      /* x87 reset state: all exceptions masked */
	fpu.mxcsr = 0x1f80;   /* SSE: all exceptions masked */
	int r = KVM_IOCTL(c->fd, KVM_SET_FPU, &fpu);
	return r < 0 ? r : 0;
}

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_EXTINT 0x7
#define APIC_MODE_NMI 0x4

static void set_lvt_mode(struct kvm_lapic_state *l, unsigned reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], sizeof(v));
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&l->regs[reg], &v, sizeof(v));
}

/* LINT0 takes the PIC's ExtINT and LINT1 NMIs, as firmware leaves them. */
static int setup_lapic(struct vcpu *c)
{
	struct kvm_lapic_state l;
	int r = KVM_IOCTL(c->fd, KVM_GET_LAPIC, &l);

	if (r < 0)
		return r;
	set_lvt_mode(&l, APIC_LVT0, APIC_MODE_EXTINT);
	set_lvt_mode(&l, APIC_LVT1, APIC_MODE_NMI);
	r = KVM_IOCTL(c->fd, KVM_SET_LAPIC, &l);
	return r < 0 ? r : 0;
}

int arch_vcpu_init(struct vcpu *c)
{
	int r = setup_cpuid(c, c->env->ncpus);

	if (!r)
		r = setup_msrs(c);
	if (!r)
		r = setup_fpu(c);
	if (!r)
		r = setup_lapic(c);
	return r;
}

/* Hidden segment state from a raw GDT descriptor. */
static void seg_from_desc(struct kvm_segment *s, uint16_t sel, uint64_t d)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	s->limit = (uint32_t)((d & 0xffff) | (((d >> 48) & 0xf) << 16));
	s->type = (d >> 40) & 0xf;
	s->s = (d >> 44) & 1;
	s->dpl = (d >> 45) & 3;
	s->present = (d >> 47) & 1;
	s->avl = (d >> 52) & 1;
	s->l = (d >> 53) & 1;
	s->db = (d >> 54) & 1;
	s->g = (d >> 55) & 1;
	if (s->g)
		s->limit = (s->limit << 12) | 0xfff;
}

int x86_cpu_boot_regs(struct vcpu *c, const struct linux_entry *e)
{
	struct kvm_sregs s;
	int r = KVM_IOCTL(c->fd, KVM_GET_SREGS, &s);

	if (r < 0)
		return r;
	seg_from_desc(&s.cs, e->code_sel, e->code_desc);
	seg_from_desc(&s.ds, e->data_sel, e->data_desc);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.gdt.base = e->gdt_base;
	s.gdt.limit = e->gdt_limit;
	s.cr0 = e->cr0;
	s.cr3 = e->cr3;
	s.cr4 = e->cr4;
	s.efer = e->efer;
	r = KVM_IOCTL(c->fd, KVM_SET_SREGS, &s);
	if (r < 0)
		return r;

	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = e->rip;
	regs.rsi = e->rsi;
	regs.rsp = e->rsp;
	regs.rbp = e->rsp;
	regs.rflags = 2;  /* bit 1 is reserved and always set */
	r = KVM_IOCTL(c->fd, KVM_SET_REGS, &regs);
	return r < 0 ? r : 0;
}

void arch_vcpu_dump(struct vcpu *c)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (kvm_ioctl_raw(c->fd, KVM_GET_REGS, (unsigned long)&r) < 0 ||
	    kvm_ioctl_raw(c->fd, KVM_GET_SREGS, (unsigned long)&s) < 0)
		return;
	log_debug("vCPU %u: rip %llx rsp %llx rax %llx rflags %llx cr0 %llx cr3 %llx "
		  "cr4 %llx efer %llx cs %x", c->id, r.rip, r.rsp, r.rax, r.rflags, s.cr0,
		  s.cr3, s.cr4, s.efer, s.cs.selector);
	/* Code bytes at rip, when rip is an identity-mapped address. */
	const uint8_t *code = gmem_ptr(c->env->mem, r.rip, 16);
	if (code)
		log_debug("vCPU %u: code %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x "
			  "%02x %02x", c->id, code[0], code[1], code[2], code[3], code[4],
			  code[5], code[6], code[7], code[8], code[9], code[10], code[11]);
}
