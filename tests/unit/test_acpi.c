/*
 * acpi_build(): walk the tables from the RSDP the way an OS does, check
 * every length and checksum, the MADT's CPUs, the FADT's registers, and
 * parse the DSDT's AML independently (PkgLength consistency, names,
 * resource templates). If iasl is installed, it must also disassemble and
 * recompile the DSDT with 0 errors.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/x86/acpi.h"
#include "boot/x86/aml.h"
#include "boot/x86/layout.h"
#include "vmm/base/gmem.h"

#define RAM_SIZE  (2u << 20)
#define MAX_FOUND 64

struct fixture {
	struct gmem mem;
	uint8_t *ram;
	uint64_t rsdp;
};

/* What the AML walker found for one Device. */
struct found_dev {
	char name[5];
	char hid[16];
	int64_t uid;
	uint64_t io_base, io_len, mem_base, mem_len;
	int irq;
	int ext_irq;            /* described with Interrupt(), not IRQNoFlags */
};

struct dsdt_info {
	struct found_dev dev[MAX_FOUND];
	unsigned ndev;
	int64_t s5[4];
	unsigned s5_n;
};

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->ram = calloc(1, RAM_SIZE);
	ck_assert_ptr_nonnull(f->ram);
	ck_assert_int_eq(gmem_add(&f->mem, 0, RAM_SIZE, f->ram), 0);
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* A table at gpa: inside the ACPI area, sane length, zero checksum. */
static const uint8_t *table(struct fixture *f, uint64_t gpa, const char *sig)
{
	const uint8_t *t;
	uint32_t len;

	ck_assert_uint_ge(gpa, LAYOUT_ACPI);
	ck_assert_uint_le(gpa + 36, LAYOUT_ACPI_END);
	t = f->ram + gpa;
	ck_assert_msg(!memcmp(t, sig, 4), "expected %s at 0x%llx", sig,
		      (unsigned long long)gpa);
	len = le(t + 4, 4);
	ck_assert_uint_ge(len, 36);
	ck_assert_uint_le(gpa + len, LAYOUT_ACPI_END);
	ck_assert_uint_eq(sum(t, len), 0);
	ck_assert(!memcmp(t + 10, "MOTE  ", 6));
	return t;
}

static const uint8_t *xsdt_find(struct fixture *f, const char *sig)
{
	const uint8_t *rsdp = f->ram + f->rsdp;
	const uint8_t *x = table(f, le(rsdp + 24, 8), "XSDT");
	unsigned n = (le(x + 4, 4) - 36) / 8;

	ck_assert_uint_eq((le(x + 4, 4) - 36) % 8, 0);
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = le(x + 36 + 8 * i, 8);
		if (!memcmp(f->ram + gpa, sig, 4))
			return table(f, gpa, sig);
	}
	ck_abort_msg("%s not in the XSDT", sig);
	return NULL;
}

static void build(struct fixture *f, unsigned ncpus, const struct acpi_dev *d,
		  size_t n)
{
	ck_assert_int_eq(acpi_build(&f->mem, ncpus, d, n, &f->rsdp), 0);
}

START_TEST(rsdp_and_xsdt)
{
	struct fixture f;
	const uint8_t *r;

	fixture_init(&f);
	build(&f, 1, NULL, 0);
	ck_assert_uint_eq(f.rsdp, LAYOUT_ACPI);  /* where legacy scans look */
	r = f.ram + f.rsdp;
	ck_assert(!memcmp(r, "RSD PTR ", 8));
	ck_assert_uint_eq(sum(r, 20), 0);
	ck_assert_uint_eq(r[15], 2);
	ck_assert_uint_eq(le(r + 20, 4), 36);
	ck_assert_uint_eq(sum(r, 36), 0);
	ck_assert_uint_eq(le(r + 16, 4), 0);      /* no RSDT */
	xsdt_find(&f, "FACP");
	xsdt_find(&f, "APIC");
	free(f.ram);
}
END_TEST

static void check_gas(const uint8_t *g, uint64_t port)
{
	ck_assert_uint_eq(g[0], 1);   /* system I/O */
	ck_assert_uint_eq(g[1], 8);
	ck_assert_uint_eq(g[2], 0);
	ck_assert_uint_eq(g[3], 1);   /* byte access */
	ck_assert_uint_eq(le(g + 4, 8), port);
}

START_TEST(fadt_is_hardware_reduced)
{
	struct fixture f;
	const uint8_t *fadt;
	uint32_t flags;

	fixture_init(&f);
	build(&f, 2, NULL, 0);
	fadt = xsdt_find(&f, "FACP");
	ck_assert_uint_eq(le(fadt + 4, 4), 276);
	ck_assert_uint_eq(fadt[8], 6);
	flags = le(fadt + 112, 4);
	ck_assert(flags & (1u << 20));            /* HW_REDUCED_ACPI */
	ck_assert(flags & (1u << 10));            /* RESET_REG_SUP */
	check_gas(fadt + 116, PORT_ACPI_RESET);
	ck_assert_uint_eq(fadt[128], ACPI_RESET_VALUE);
	check_gas(fadt + 244, PORT_ACPI_SLEEP_CTL);
	check_gas(fadt + 256, PORT_ACPI_SLEEP_STS);
	ck_assert_uint_eq(le(fadt + 46, 2), 0);  /* no SCI */
	table(&f, le(fadt + 140, 8), "DSDT");     /* X_DSDT */
	free(f.ram);
}
END_TEST

static void check_madt(unsigned ncpus)
{
	struct fixture f;
	const uint8_t *m, *p, *end;
	unsigned lapics = 0, ioapics = 0, isos = 0;
	uint8_t seen[256] = { 0 };

	fixture_init(&f);
	build(&f, ncpus, NULL, 0);
	m = xsdt_find(&f, "APIC");
	ck_assert_uint_eq(le(m + 36, 4), LAYOUT_LAPIC);
	ck_assert_uint_eq(le(m + 40, 4) & 1, 1);  /* PCAT_COMPAT */
	end = m + le(m + 4, 4);
	for (p = m + 44; p < end; p += p[1]) {
		ck_assert_uint_ge(p[1], 2);
		ck_assert((p + p[1]) <= (end));
		if (p[0] == 0) {
			ck_assert_uint_eq(p[1], 8);
			ck_assert_uint_eq(p[2], lapics);   /* processor UID */
			ck_assert_uint_eq(p[3], lapics);   /* APIC ID */
			ck_assert_uint_eq(le(p + 4, 4) & 1, 1);
			seen[p[3]] = 1;
			lapics++;
		} else if (p[0] == 1) {
			ck_assert_uint_eq(le(p + 4, 4), LAYOUT_IOAPIC);
			ck_assert_uint_eq(le(p + 8, 4), 0);
			ck_assert_msg(!seen[p[2]], "IOAPIC id %u is a CPU's", p[2]);
			ioapics++;
		} else if (p[0] == 2) {
			ck_assert_uint_eq(p[3], 0);         /* ISA IRQ 0 */
			ck_assert_uint_eq(le(p + 4, 4), 2); /* -> GSI 2 */
			isos++;
		}
	}
	ck_assert_ptr_eq(p, end);
	ck_assert_uint_eq(lapics, ncpus);
	ck_assert_uint_eq(ioapics, 1);
	ck_assert_uint_eq(isos, 1);
	free(f.ram);
}

START_TEST(madt_one_lapic_per_cpu)
{
	check_madt(1);
	check_madt(2);
	check_madt(64);
	check_madt(254);
}
END_TEST

/* ---- An AML reader, independent of boot/x86/aml.c's writer. ---- */

struct rd {
	const uint8_t *p, *end;
};

static uint32_t pkg(struct rd *r, const uint8_t **pkg_end)
{
	uint32_t v = 0;
	unsigned n = aml_pkglen_decode(r->p, r->end - r->p, &v);
	const uint8_t *start = r->p;

	ck_assert_uint_gt(n, 0);
	/* Shortest encoding, as iasl writes it. */
	ck_assert_uint_eq(n, v < 0x40 ? 1 : v < 0x1000 ? 2 : v < 0x100000 ? 3 : 4);
	ck_assert_uint_ge(v, n);
	ck_assert((start + v) <= (r->end));
	r->p += n;
	*pkg_end = start + v;
	return v;
}

static void namestring(struct rd *r, char *last)
{
	unsigned nseg = 1;

	if (*r->p == '\\')
		r->p++;
	if (*r->p == 0x2e) {
		nseg = 2;
		r->p++;
	} else if (*r->p == 0x2f) {
		nseg = r->p[1];
		r->p += 2;
	}
	ck_assert((r->p + 4 * nseg) <= (r->end));
	for (unsigned i = 0; i < nseg; i++, r->p += 4)
		for (int k = 0; k < 4; k++)
			ck_assert(r->p[k] == '_' || (r->p[k] >= 'A' && r->p[k] <= 'Z') ||
				  (k && r->p[k] >= '0' && r->p[k] <= '9'));
	memcpy(last, r->p - 4, 4);
	last[4] = '\0';
}

static int is_integer(struct rd *r, uint64_t *v)
{
	static const unsigned size[] = { [0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8 };
	uint8_t op = *r->p;

	if (op == 0x00 || op == 0x01) {
		*v = op;
		r->p++;
		return 1;
	}
	if (op > 0x0e || !size[op])
		return 0;
	ck_assert((r->p + 1 + size[op]) <= (r->end));
	*v = le(r->p + 1, size[op]);
	r->p += 1 + size[op];
	return 1;
}

/* Resource template: IO, IRQ, Memory32Fixed, Interrupt, then EndTag last. */
static void resources(const uint8_t *p, size_t n, struct found_dev *d)
{
	const uint8_t *end = p + n;

	while (p < end) {
		unsigned len, hdr = (*p & 0x80) ? 3 : 1;
		len = (*p & 0x80) ? le(p + 1, 2) : (*p & 7);
		ck_assert((p + hdr + len) <= (end));
		if (*p == 0x79) {
			ck_assert_ptr_eq(p + 2, end);
			return;
		} else if (*p == 0x47) {
			d->io_base = le(p + 2, 2);
			ck_assert_uint_eq(le(p + 4, 2), d->io_base);
			d->io_len = p[7];
		} else if ((*p & 0xf8) == 0x20) {
			uint16_t mask = le(p + 1, 2);
			ck_assert_uint_eq(__builtin_popcount(mask), 1);
			d->irq = __builtin_ctz(mask);
		} else if (*p == 0x86) {
			d->mem_base = le(p + 4, 4);
			d->mem_len = le(p + 8, 4);
		} else if (*p == 0x89) {
			ck_assert_uint_eq(p[4], 1);
			ck_assert_uint_eq(p[3] & 0x0f, 0x03);  /* consumer, edge, high, excl */
			d->irq = le(p + 5, 4);
			d->ext_irq = 1;
		} else {
			ck_abort_msg("unexpected resource 0x%02x", *p);
		}
		p += hdr + len;
	}
	ck_abort_msg("resource template without an end tag");
}

/* A Name's value: integer, string, buffer (_CRS) or package (_S5_). */
static void data(struct rd *r, const char *name, struct found_dev *d,
		 struct dsdt_info *info)
{
	const uint8_t *end;
	uint64_t v;

	if (is_integer(r, &v)) {
		if (d && !strcmp(name, "_HID"))
			snprintf(d->hid, sizeof(d->hid), "eisa:%08llx",
				 (unsigned long long)v);
		if (d && !strcmp(name, "_UID"))
			d->uid = v;
	} else if (*r->p == 0x0d) {
		const uint8_t *z = memchr(r->p, 0, r->end - r->p);
		ck_assert_ptr_nonnull(z);
		if (d && !strcmp(name, "_HID"))
			snprintf(d->hid, sizeof(d->hid), "%s", (const char *)r->p + 1);
		r->p = z + 1;
	} else if (*r->p == 0x11) {
		r->p++;
		pkg(r, &end);
		ck_assert(is_integer(r, &v));
		ck_assert_uint_eq(v, end - r->p);
		ck_assert_ptr_nonnull(d);
		resources(r->p, v, d);
		r->p = end;
	} else if (*r->p == 0x12) {
		r->p++;
		pkg(r, &end);
		info->s5_n = *r->p++;
		for (unsigned i = 0; i < info->s5_n && i < 4; i++) {
			ck_assert(is_integer(r, &v));
			info->s5[i] = v;
		}
		ck_assert_ptr_eq(r->p, end);
	} else {
		ck_abort_msg("unexpected data opcode 0x%02x", *r->p);
	}
}

static void terms(struct rd *r, struct found_dev *d, struct dsdt_info *info)
{
	char name[5];

	while (r->p < r->end) {
		const uint8_t *end;
		struct rd sub;
		if (*r->p == 0x08) {               /* Name */
			r->p++;
			namestring(r, name);
			data(r, name, d, info);
		} else if (*r->p == 0x10) {        /* Scope */
			r->p++;
			pkg(r, &end);
			sub = (struct rd){ r->p, end };
			namestring(&sub, name);
			terms(&sub, NULL, info);
			ck_assert_ptr_eq(sub.p, end);
			r->p = end;
		} else if (r->p[0] == 0x5b && r->p[1] == 0x82) {  /* Device */
			struct found_dev *nd = &info->dev[info->ndev++];
			ck_assert_uint_le(info->ndev, MAX_FOUND);
			r->p += 2;
			pkg(r, &end);
			sub = (struct rd){ r->p, end };
			namestring(&sub, nd->name);
			nd->irq = -1;
			terms(&sub, nd, info);
			r->p = end;
		} else {
			ck_abort_msg("unexpected opcode 0x%02x", *r->p);
		}
	}
	ck_assert_ptr_eq(r->p, r->end);
}

static const uint8_t *parse_dsdt(struct fixture *f, struct dsdt_info *info)
{
	const uint8_t *fadt = xsdt_find(f, "FACP");
	const uint8_t *dsdt = table(f, le(fadt + 140, 8), "DSDT");
	struct rd r = { dsdt + 36, dsdt + le(dsdt + 4, 4) };

	memset(info, 0, sizeof(*info));
	terms(&r, NULL, info);
	return dsdt;
}

static const struct found_dev *dev_named(struct dsdt_info *info, const char *n)
{
	for (unsigned i = 0; i < info->ndev; i++)
		if (!strcmp(info->dev[i].name, n))
			return &info->dev[i];
	ck_abort_msg("no device %s", n);
	return NULL;
}

START_TEST(dsdt_describes_each_device)
{
	struct fixture f;
	struct dsdt_info info;
	struct acpi_dev devs[16] = {
		{ ACPI_DEV_UART, PORT_COM1, 8, IRQ_COM1 },
	};
	const struct found_dev *d;
	char name[5];

	for (unsigned i = 1; i < 16; i++)
		devs[i] = (struct acpi_dev){ ACPI_DEV_VIRTIO_MMIO,
			LAYOUT_VIRTIO_MMIO + (i - 1) * LAYOUT_VIRTIO_STRIDE, 0x200,
			i < 4 ? IRQ_VIRTIO_FIRST + i - 1 : i + 5 };
	fixture_init(&f);
	build(&f, 4, devs, 16);
	parse_dsdt(&f, &info);
	ck_assert_uint_eq(info.ndev, 16);
	d = dev_named(&info, "COM1");
	ck_assert_str_eq(d->hid, "eisa:0105d041");  /* EisaId("PNP0501") */
	ck_assert_uint_eq(d->io_base, PORT_COM1);
	ck_assert_uint_eq(d->io_len, 8);
	ck_assert_int_eq(d->irq, IRQ_COM1);
	ck_assert_int_eq(d->ext_irq, 0);
	for (unsigned i = 1; i < 16; i++) {
		snprintf(name, sizeof(name), "VR%02X", i - 1);
		d = dev_named(&info, name);
		ck_assert_str_eq(d->hid, "LNRO0005");
		ck_assert_int_eq(d->uid, i - 1);
		ck_assert_uint_eq(d->mem_base, devs[i].base);
		ck_assert_uint_eq(d->mem_len, 0x200);
		ck_assert_int_eq(d->irq, devs[i].irq);
		ck_assert_int_eq(d->ext_irq, 1);
	}
	ck_assert_uint_eq(info.s5_n, 4);
	ck_assert_int_eq(info.s5[0], ACPI_S5_SLP_TYP);
	free(f.ram);
}
END_TEST

START_TEST(big_dsdt_uses_long_pkglengths)
{
	struct fixture f;
	struct dsdt_info info;
	struct acpi_dev devs[60];

	for (unsigned i = 0; i < 60; i++)
		devs[i] = (struct acpi_dev){ ACPI_DEV_VIRTIO_MMIO,
			LAYOUT_VIRTIO_MMIO + i * LAYOUT_VIRTIO_STRIDE, 0x1000, 20 };
	fixture_init(&f);
	build(&f, 64, devs, 60);
	parse_dsdt(&f, &info);  /* \_SB's body is > 4 KiB: a 3-byte PkgLength */
	ck_assert_uint_eq(info.ndev, 60);
	free(f.ram);
}
END_TEST

START_TEST(absurd_counts_and_bad_devices)
{
	struct fixture f;
	uint64_t rsdp;
	size_t n = 5000;
	struct acpi_dev *many = calloc(n, sizeof(*many));
	struct acpi_dev bad_port = { ACPI_DEV_UART, 0xfffc, 8, 4 };
	struct acpi_dev bad_irq = { ACPI_DEV_VIRTIO_MMIO, LAYOUT_VIRTIO_MMIO,
				    0x1000, IRQ_MAX + 1 };

	for (size_t i = 0; i < n; i++)
		many[i] = (struct acpi_dev){ ACPI_DEV_VIRTIO_MMIO,
			LAYOUT_VIRTIO_MMIO, 0x1000, 5 };
	fixture_init(&f);
	ck_assert_int_eq(acpi_build(&f.mem, 0, NULL, 0, &rsdp), -EINVAL);
	ck_assert_int_eq(acpi_build(&f.mem, 255, NULL, 0, &rsdp), -ENOSPC);
	ck_assert_int_eq(acpi_build(&f.mem, 100000, NULL, 0, &rsdp), -ENOSPC);
	ck_assert_int_eq(acpi_build(&f.mem, 1, many, n, &rsdp), -ENOSPC);
	ck_assert_int_eq(acpi_build(&f.mem, 1, &bad_port, 1, &rsdp), -EINVAL);
	ck_assert_int_eq(acpi_build(&f.mem, 1, &bad_irq, 1, &rsdp), -EINVAL);
	free(many);
	free(f.ram);
}
END_TEST

START_TEST(aml_pkglength_encoding)
{
	uint8_t buf[0x20000];
	struct aml a;
	uint32_t v;
	struct { size_t body; unsigned bytes; } cases[] = {
		{ 1, 1 }, { 62, 1 }, { 63, 2 }, { 0xffd, 2 }, { 0xffe, 3 },
		{ 0x10000, 3 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_package(&a, 0);      /* PackageOp, PkgLength, NumElements */
		for (size_t k = 1; k < cases[i].body; k++)
			aml_bytes(&a, "\0", 1);
		aml_close(&a);
		ck_assert_int_eq(aml_finish(&a), 1 + cases[i].bytes + cases[i].body);
		ck_assert_uint_eq(aml_pkglen_decode(buf + 1, a.len - 1, &v),
				  cases[i].bytes);
		ck_assert_uint_eq(v, cases[i].bytes + cases[i].body);
	}
	aml_init(&a, buf, 6);
	aml_scope(&a, "\\_SB_");
	aml_close(&a);
	ck_assert_int_eq(aml_finish(&a), -ENOSPC);
	aml_init(&a, buf, sizeof(buf));
	aml_device(&a, "bad");
	aml_close(&a);
	ck_assert_int_eq(aml_finish(&a), -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_scope(&a, "\\_SB_");
	ck_assert_int_eq(aml_finish(&a), -EINVAL);  /* never closed */
}
END_TEST

/* iasl must take the DSDT apart and put it back together without errors. */
START_TEST(dsdt_round_trips_through_iasl)
{
	struct fixture f;
	struct dsdt_info info;
	struct acpi_dev devs[] = {
		{ ACPI_DEV_UART, PORT_COM1, 8, IRQ_COM1 },
		{ ACPI_DEV_VIRTIO_MMIO, LAYOUT_VIRTIO_MMIO, 0x200, 5 },
		{ ACPI_DEV_VIRTIO_MMIO, LAYOUT_VIRTIO_MMIO + 0x1000, 0x200, 16 },
	};
	char dir[] = "/tmp/mote-test-acpi-XXXXXX", cmd[512], out[8192];
	const uint8_t *dsdt;
	FILE *fp;
	size_t n;

	/* acpica-tools is a declared test dependency (tools/install-deps.sh):
	 * without iasl this test fails rather than passing unchecked. */
	ck_assert_msg(system("command -v iasl >/dev/null 2>&1") == 0,
		      "iasl not installed (run tools/install-deps.sh)");
	fixture_init(&f);
	build(&f, 2, devs, 3);
	dsdt = parse_dsdt(&f, &info);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "%s/dsdt.aml", dir);
	fp = fopen(cmd, "wb");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(dsdt, 1, le(dsdt + 4, 4), fp), le(dsdt + 4, 4));
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d dsdt.aml >/dev/null 2>&1 && "
		 "grep -q LNRO0005 dsdt.dsl && grep -q PNP0501 dsdt.dsl && "
		 "iasl -p re dsdt.dsl 2>&1; rm -rf %s", dir, dir);
	fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	ck_assert_int_eq(pclose(fp), 0);
	ck_assert_msg(strstr(out, " 0 Errors,"), "%s", out);
	free(f.ram);
}
END_TEST

static Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rsdp_and_xsdt);
	tcase_add_test(tc, fadt_is_hardware_reduced);
	tcase_add_test(tc, madt_one_lapic_per_cpu);
	tcase_add_test(tc, dsdt_describes_each_device);
	tcase_add_test(tc, big_dsdt_uses_long_pkglengths);
	tcase_add_test(tc, absurd_counts_and_bad_devices);
	tcase_add_test(tc, aml_pkglength_encoding);
	tcase_add_test(tc, dsdt_round_trips_through_iasl);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(acpi_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
