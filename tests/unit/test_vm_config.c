// SPDX-License-Identifier: MIT
/*
 * vm.ini (vm/vm_config.c) and the saved-state container (vm/statefile.c):
 * good files parse, every bad input names file, line and problem.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "vm/statefile.h"
#include "vm/vm_config.h"

#define HEAD "[vm]\nname = t\nuuid = 0b3c3e4e-58a3-4b0e-9d7a-1f2e3d4c5b6a\n"

static char dir[] = "/tmp/twoostwo-vmcfg-XXXXXX";

static int parse(const char *text, char *err, size_t len)
{
	struct vm_config c;
	int ret = vm_config_parse(&c, text, "vm.ini", dir, err, len);

	if (!ret)
		vm_config_free(&c);
	return ret;
}

static void test_good(void)
{
	struct vm_config c, d;
	char err[512] = "", *text;
	int ret = vm_config_parse(
		&c,
		HEAD
		"# comment\n[machine]\nmemory = 256M\nboot = cd\n"
		"[drives]\ncdrom = /x.iso\nhda = present.img,rw\n"
		"[ports]\ncom1 = unix:console.sock,server\nlpt1 = "
		"file:lp.out\n[network]\nnet = user,mac=52:54:00:00:00:01\n"
		"net = user,mac=52:54:00:00:00:02\n",
		"vm.ini", dir, err, sizeof(err));

	CHECK_EQ(ret, 0);
	CHECK_STR(err, "");
	if (ret)
		return;
	CHECK_EQ(c.memory, 256ull << 20);
	CHECK_STR(c.drive[VM_HDA], "present.img,rw");
	CHECK_STR(c.lpt[0], "file:lp.out");
	CHECK_EQ(c.nr_net, 2);
	CHECK_EQ(c.net_line[1], 16);
	/* What we write reads back the same. */
	text = vm_config_format(&c);
	CHECK_EQ(vm_config_parse(&d, text, "again", dir, err, sizeof(err)), 0);
	CHECK_STR(d.net[1], c.net[1]);
	CHECK_STR(d.uuid, c.uuid);
	CHECK_EQ(d.memory, c.memory);
	free(text);
	vm_config_free(&d);
	vm_config_free(&c);
}

static void test_unknown_key(void)
{
	char err[512];

	CHECK_EQ(parse(HEAD "[machine]\nmemroy = 1G\n", err, sizeof(err)),
		 -EINVAL);
	CHECK_STR(err, "vm.ini:5: unknown key 'memroy' in [machine]");
	CHECK_EQ(parse(HEAD "[drives]\nmemory = 1G\n", err, sizeof(err)),
		 -EINVAL);
	CHECK_STR(err, "vm.ini:5: key 'memory' belongs in another section "
		       "than [drives]");
	CHECK_EQ(parse(HEAD "[machine]\nmemory = 1G\nmemory = 2G\n", err,
		       sizeof(err)),
		 -EINVAL);
	CHECK_STR(err, "vm.ini:6: memory given twice");
	CHECK_EQ(parse(HEAD "this is not ini\n", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "vm.ini:4: not INI syntax") == err);
}

static void test_memory(void)
{
	char err[512];

	CHECK_EQ(parse(HEAD "[machine]\nmemory = 5G\n", err, sizeof(err)),
		 -EINVAL);
	CHECK_STR(err, "vm.ini:5: memory 5G is impossible: 2M to 3G in 64K "
		       "steps");
	CHECK_EQ(parse(HEAD "[machine]\nmemory = 1000K\n", err, sizeof(err)),
		 -EINVAL);
	CHECK_EQ(parse(HEAD "[machine]\nmemory = lots\n", err, sizeof(err)),
		 -EINVAL);
	CHECK_STR(err, "vm.ini:5: memory 'lots' is not a size (512, 64M, 1G, "
		       "65536K)");
	CHECK_EQ(parse(HEAD "[machine]\nmemory = 99999999999999999999G\n", err,
		       sizeof(err)),
		 -EINVAL);
	CHECK_EQ(parse(HEAD "[machine]\nmemory = 512\n", err, sizeof(err)), 0);
}

static void test_missing_disk(void)
{
	char err[512];

	CHECK_EQ(parse(HEAD "[drives]\n\nhdb = gone.img\n", err, sizeof(err)),
		 -ENOENT);
	CHECK_STR(err, "vm.ini:6: hdb: disk image gone.img is missing");
	CHECK_EQ(parse(HEAD "[drives]\nhdb = present.img,rw\n", err,
		       sizeof(err)),
		 0);
	CHECK_EQ(parse(HEAD "[drives]\ncdrom = a.iso\nhdc = present.img\n", err,
		       sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "vm.ini:6: cdrom and hdc") == err);
}

static void test_mac(void)
{
	char err[512];

	CHECK_EQ(parse(HEAD "[network]\nnet = user,mac=52:54:00:00:00:01\n"
			    "net = tap:tap0,mac=52:54:00:00:00:01\n",
		       err, sizeof(err)),
		 -EINVAL);
	CHECK_STR(err, "vm.ini:6: mac 52:54:00:00:00:01 is already the mac of "
		       "the card on line 5");
	CHECK_EQ(parse(HEAD "[network]\nnet = user,mac=01:00:5e:00:00:01\n",
		       err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "not a unicast") != NULL);
	CHECK_EQ(parse(HEAD "[network]\nnet = user,mac=zz\n", err, sizeof(err)),
		 -EINVAL);
	CHECK_EQ(parse(HEAD "[network]\nnet = ,mac=52:54:00:00:00:01\n", err,
		       sizeof(err)),
		 -EINVAL);
}

static void test_identity_and_lines(void)
{
	char err[512], uuid[37], mac[18], *s, *big;
	struct vm_config c;

	CHECK_EQ(parse("[vm]\nname = t\n", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "vm.ini: [vm] uuid is missing");
	CHECK_EQ(parse("[vm]\nname = t\nuuid = nope\n", err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "vm.ini:3: uuid 'nope'") == err);
	vm_new_uuid(uuid);
	CHECK_EQ(strlen(uuid), 36);
	CHECK_EQ(uuid[14], '4');
	vm_new_mac(mac);
	CHECK(!strncmp(mac, "52:54:00:", 9));
	s = vm_net_with_mac("user,mac=52:54:00:00:00:01,model=ne2k", mac);
	CHECK(s && strstr(s, mac) && strstr(s, ",model=ne2k"));
	free(s);
	/* A line too long for the parser is an error, not a truncation. */
	big = malloc(VM_VALUE_MAX + 200);
	memset(big, 'a', VM_VALUE_MAX + 199);
	big[VM_VALUE_MAX + 199] = '\0';
	memcpy(big, HEAD "[drives]\nhda = ", strlen(HEAD "[drives]\nhda = "));
	CHECK_EQ(vm_config_parse(&c, big, "vm.ini", dir, err, sizeof(err)),
		 -EINVAL);
	free(big);
	CHECK_EQ(vm_config_set(&c, "drives.hda", "x", err, sizeof(err)), 0);
	CHECK_EQ(vm_config_set(&c, "bogus", "x", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "unknown key 'bogus'");
	vm_config_free(&c);
}

/* The saved-state container: round trip, and every kind of damage. */
static void test_statefile(void)
{
	struct statefile sf, back;
	char err[512], path[256];
	u8 *buf;
	size_t len;
	FILE *f;

	CHECK_EQ(statefile_crc32(0, (const u8 *)"123456789", 9), 0xcbf43926);
	statefile_init(&sf);
	CHECK_EQ(statefile_add(&sf, "cpu", "abc", 3), 0);
	CHECK_EQ(statefile_add(&sf, "ram", "", 0), 0);
	CHECK_EQ(statefile_encode(&sf, &buf, &len), 0);
	CHECK_EQ(statefile_decode(&back, buf, len, err, sizeof(err)), 0);
	CHECK(statefile_find(&back, "cpu") &&
	      statefile_find(&back, "cpu")->len == 3);
	statefile_free(&back);
	/* Truncated anywhere, one byte flipped anywhere: refused. */
	for (size_t cut = 0; cut < len; cut++)
		CHECK(statefile_decode(&back, buf, cut, err, sizeof(err)) < 0);
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x10;
		CHECK(statefile_decode(&back, buf, len, err, sizeof(err)) < 0);
		buf[i] ^= 0x10;
	}
	/* A newer format: a clear refusal. */
	put_le32(buf + 16, STATEFILE_VERSION + 1);
	CHECK_EQ(statefile_decode(&back, buf, len, err, sizeof(err)),
		 -EPROTONOSUPPORT);
	CHECK(strstr(err, "resume it with a newer twoostwo") != NULL);
	free(buf);
	snprintf(path, sizeof(path), "%s/state.twss", dir);
	CHECK_EQ(statefile_write(&sf, path, err, sizeof(err)), 0);
	CHECK(access(path, F_OK) == 0);
	CHECK_EQ(statefile_read(&back, path, err, sizeof(err)), 0);
	statefile_free(&back);
	f = fopen(path, "r+");
	if (f) {
		CHECK_EQ(ftruncate(fileno(f), 20), 0);
		fclose(f);
	}
	CHECK_EQ(statefile_read(&back, path, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "not a usable saved state") != NULL);
	unlink(path);
	statefile_free(&sf);
}

static void test_fieldlist(void)
{
	struct fieldlist fl = {0};
	u64 v = 0;
	u8 st[3] = {1, 2, 3}, back[3];

	fieldlist_put(&fl, "eip", 0x12345678);
	fieldlist_put_bytes(&fl, "st", st, 3);
	CHECK_EQ(fl.error, 0);
	CHECK_EQ(fieldlist_get(fl.buf, fl.len, "eip", &v), 0);
	CHECK_EQ(v, 0x12345678);
	CHECK_EQ(fieldlist_get(fl.buf, fl.len, "rip", &v), -ENOENT);
	CHECK_EQ(fieldlist_get_bytes(fl.buf, fl.len, "st", back, 3), 0);
	CHECK(!memcmp(back, st, 3));
	CHECK_EQ(fieldlist_get_bytes(fl.buf, fl.len, "st", back, 2), -EINVAL);
	/* A cut list is malformed, not read past its end. */
	CHECK_EQ(fieldlist_get(fl.buf, fl.len - 1, "st", &v), -EINVAL);
	free(fl.buf);
}

int main(void)
{
	char path[256];
	FILE *f;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/present.img", dir);
	f = fopen(path, "w");
	if (f)
		fclose(f);
	RUN_TEST(test_good);
	RUN_TEST(test_unknown_key);
	RUN_TEST(test_memory);
	RUN_TEST(test_missing_disk);
	RUN_TEST(test_mac);
	RUN_TEST(test_identity_and_lines);
	RUN_TEST(test_statefile);
	RUN_TEST(test_fieldlist);
	unlink(path);
	rmdir(dir);
	return unit_summary();
}
